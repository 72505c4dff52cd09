// Checks a plugin file's ELF structure against its size before `dlopen` maps it.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `dlopen` maps a shared object's segments straight from the file: a truncated file maps pages
/// past its end, and touching them kills the process with SIGBUS instead of returning an error.
/// Checking the ELF header, the program header table, every `PT_LOAD` segment and the section
/// header table against the file's size first turns such a file into an error naming it.
enum ELFFileCheck {
    /// Why the file is not a usable ELF shared object (the caller prefixes the file name).
    struct Problem: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// `PT_LOAD`: a segment the loader maps from the file.
    private static let loadSegment: UInt32 = 1

    /// Validates the file at `path`; reads only its headers.
    static func check(path: String) throws(Problem) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Problem(description: "cannot open the file") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw Problem(description: "cannot read the file: errno \(errno)") }
        let size = UInt64(status.st_size)
        let header = read(fd, at: 0, count: 64)
        try check(header: header, fileSize: size) { offset, count in read(fd, at: offset, count: count) }
    }

    /// Validates headers read through `read(offset, count)` against `fileSize`.
    static func check(header: [UInt8], fileSize: UInt64, read: (UInt64, Int) -> [UInt8]) throws(Problem) {
        let truncated = "truncated or damaged shared object (file is \(fileSize) bytes)"
        guard header.count >= 16, header[0] == 0x7F, header[1] == 0x45, header[2] == 0x4C, header[3] == 0x46 else {
            throw Problem(description: "not an ELF shared object (file is \(fileSize) bytes)")
        }
        guard header[4] == 2 else { throw Problem(description: "not a 64-bit ELF shared object") }
        guard header[5] == 1 else { throw Problem(description: "not a little-endian ELF shared object") }
        guard header.count >= 64 else { throw Problem(description: "\(truncated): the ELF header is incomplete") }
        let e = LittleEndian(header)
        let phoff = e.u64(32), shoff = e.u64(40)
        let phentsize = UInt64(e.u16(54)), phnum = UInt64(e.u16(56))
        let shentsize = UInt64(e.u16(58)), shnum = UInt64(e.u16(60))
        guard phnum > 0, phentsize >= 56 else { throw Problem(description: "not a loadable ELF file: it has no program headers") }
        guard fits(phoff, phentsize * phnum, in: fileSize) else {
            throw Problem(description: "\(truncated): the program header table ends past the end of the file")
        }
        let table = read(phoff, Int(phentsize * phnum))
        guard UInt64(table.count) == phentsize * phnum else {
            throw Problem(description: "\(truncated): cannot read the program header table")
        }
        let t = LittleEndian(table)
        for i in 0..<Int(phnum) {
            let base = i * Int(phentsize)
            guard t.u32(base) == loadSegment else { continue }
            let offset = t.u64(base + 8), filesz = t.u64(base + 32)
            guard fits(offset, filesz, in: fileSize) else {
                throw Problem(description: "\(truncated): loadable segment \(i) (bytes \(offset)..<\(offset &+ filesz)) ends past the end of the file")
            }
        }
        if shnum > 0, !fits(shoff, shentsize * shnum, in: fileSize) {
            throw Problem(description: "\(truncated): the section header table ends past the end of the file")
        }
    }

    private static func fits(_ offset: UInt64, _ length: UInt64, in size: UInt64) -> Bool {
        let (end, overflow) = offset.addingReportingOverflow(length)
        return !overflow && end <= size
    }

    /// Up to `count` bytes at `offset` (fewer at the end of the file, none on an error).
    private static func read(_ fd: Int32, at offset: UInt64, count: Int) -> [UInt8] {
        guard count > 0, offset <= UInt64(Int64.max) else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        return Array(bytes.prefix(filled))
    }

    private struct LittleEndian {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
    }
}
