#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyModel
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Start-up recovery of one segment file of the durable queue. A torn tail (the newest segment's
/// partial last frame, left by a crash during a write) is truncated. Damage anywhere else is
/// skipped by resynchronising on the next frame that checks out; the damaged bytes are copied to
/// `quarantine/` and the file is rewritten without them, so the next start finds it clean and
/// nothing is counted twice.
struct SegmentRecovery {
    /// One damaged stretch and what it cost.
    struct Loss: Equatable {
        var start: Int
        var end: Int
        var reason: String
        /// The sequences the stretch held, when the records around it (or the neighbouring segments'
        /// first sequences) bound it; nil when it held none or the bound is unknown.
        var sequences: ClosedRange<UInt64>?
        /// Records lost: exact when bounded, otherwise read from the length fields in the stretch.
        var records: Int
        /// The last sequence kept before the stretch.
        var previous: UInt64
        var exact: Bool
        /// Where the damaged bytes were copied; nil when the copy failed.
        var quarantined: String?

        var bytes: Int { end - start }
    }

    /// The records that check out, at their offsets in the file as it is now.
    var records: [SegmentFormat.Located]
    /// The file's size now.
    var size: Int
    var losses: [Loss]
    /// Bytes of a torn tail that were truncated away.
    var tornBytes: Int

    /// Recovers the segment `file` (its name) at `path`, holding `data`. `sequences` is what it can
    /// hold (from its first sequence to below the next segment's); `isNewest` when no segment follows.
    static func recover(
        path: String, file: String, data: [UInt8], sequences: ClosedRange<UInt64>, isNewest: Bool,
        quarantine: String, logger: Logger
    ) -> SegmentRecovery {
        let scan = data.withUnsafeBytes { SegmentFormat.scan($0, sequences: sequences) }
        var damage = scan.damage
        var torn: SegmentFormat.Damage?
        if isNewest, let last = damage.last, data.withUnsafeBytes({ SegmentFormat.isTornTail($0, last, sequences: sequences) }) {
            torn = damage.removeLast()
        }
        var losses = damage.map { loss(of: $0, in: scan.records, data: data, sequences: sequences, bounded: !isNewest) }
        for i in losses.indices {
            losses[i].quarantined = copyAside(data[losses[i].start..<losses[i].end], name: "\(file).\(losses[i].start)-\(losses[i].end)",
                                              quarantine: quarantine, logger: logger)
            logger.error("\(describe(losses[i], file: file))")
        }
        var out = SegmentRecovery(records: scan.records, size: data.count, losses: losses, tornBytes: torn?.bytes ?? 0)
        if let torn {
            logger.info("queue: truncated a partial last record of \(torn.bytes) bytes at offset \(torn.start) in \(file), left by a crash during a write")
        }
        if !losses.isEmpty {
            out.rewrite(path: path, from: data, logger: logger)
        } else if let torn {
            if truncate(path, off_t(torn.start)) == 0 {
                out.size = torn.start
            } else {
                logger.warning("queue: cannot truncate \(file): \(String(cString: strerror(errno))); its torn tail stays and is skipped again at the next start")
            }
        }
        return out
    }

    static func loss(
        of d: SegmentFormat.Damage, in records: [SegmentFormat.Located], data: [UInt8], sequences: ClosedRange<UInt64>, bounded: Bool
    ) -> Loss {
        let before = records.last { $0.offset < d.start }?.sequence ?? (sequences.lowerBound - 1)
        let after = records.first { $0.offset >= d.end }?.sequence ?? (bounded ? sequences.upperBound &+ 1 : nil)
        guard let after else {
            return Loss(start: d.start, end: d.end, reason: d.reason, sequences: nil, records: framesClaimed(data[d.start..<d.end]),
                        previous: before, exact: false)
        }
        let count = after > before ? Int(after - before - 1) : 0
        return Loss(start: d.start, end: d.end, reason: d.reason, sequences: count > 0 ? (before + 1)...(after - 1) : nil,
                    records: count, previous: before, exact: true)
    }

    /// How many frames a damaged stretch at the end of the newest segment seems to hold, following
    /// its length fields while they fit (at least one: the stretch starts where a frame failed).
    static func framesClaimed(_ bytes: ArraySlice<UInt8>) -> Int {
        var offset = bytes.startIndex
        var frames = 0
        while offset < bytes.endIndex {
            frames += 1
            guard bytes.endIndex - offset >= SegmentFormat.headerSize else { break }
            let length = bytes[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
            guard length > 0, length <= bytes.endIndex - offset - SegmentFormat.headerSize else { break }
            offset += SegmentFormat.headerSize + length
        }
        return max(frames, 1)
    }

    static func describe(_ l: Loss, file: String) -> String {
        let lost: String
        if let s = l.sequences {
            lost = "\(l.records) record\(l.records == 1 ? "" : "s") lost (sequence\(l.records == 1 ? " \(s.lowerBound)" : "s \(s.lowerBound)-\(s.upperBound)")); the records before and after it are kept"
        } else if l.exact {
            lost = "no whole record lost; the records before and after it are kept"
        } else {
            lost = "about \(l.records) record\(l.records == 1 ? "" : "s") lost at the end of the newest segment (after sequence \(l.previous)); the records before it are kept"
        }
        let copy = l.quarantined.map { "a copy of the damaged bytes is in \($0)" } ?? "the damaged bytes could not be copied aside"
        return "queue: segment \(file) is damaged at bytes \(l.start)..<\(l.end) (\(l.bytes) bytes, \(l.reason)): \(lost); \(copy)"
    }

    /// Writes `bytes` to `quarantine/name`; returns the path, or nil (logged) when it cannot.
    static func copyAside(_ bytes: ArraySlice<UInt8>, name: String, quarantine: String, logger: Logger) -> String? {
        let target = quarantine + "/" + name
        do {
            try FileManager.default.createDirectory(atPath: quarantine, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: target), options: .atomic)
            return target
        } catch {
            logger.warning("queue: cannot copy damaged bytes to \(target): \(String(describing: error))")
            return nil
        }
    }

    /// Replaces the file with its records alone (written aside, synced, renamed over it). When that
    /// fails the file stays as it was: the records are read where they are, and the damage is met
    /// again at the next start.
    private mutating func rewrite(path: String, from data: [UInt8], logger: Logger) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.reduce(0) { $0 + $1.length })
        var moved = records
        for i in moved.indices {
            let r = moved[i]
            moved[i].offset = bytes.count
            bytes.append(contentsOf: data[r.offset..<(r.offset + r.length)])
        }
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        var ok = fd >= 0
        if ok {
            ok = bytes.withUnsafeBytes { writeAll(fd, $0) }
            ok = ok && fsync(fd) == 0
            close(fd)
        }
        ok = ok && rename(tmp, path) == 0
        guard ok else {
            logger.warning("queue: cannot rewrite \(path) without its damaged bytes: \(String(cString: strerror(errno))); they are skipped again at the next start")
            unlink(tmp)
            return
        }
        let dir = open(PathText.directory(path), O_RDONLY | O_DIRECTORY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
        records = moved
        size = bytes.count
    }
}
