import CZlib

/// The on-disk framing of queue records, in segment files of the durable queue:
///
///     u32 payload length | u32 CRC-32 of (sequence bytes + payload) | u64 sequence | payload
///
/// all little-endian. A record is valid only when all of it is present and the CRC matches, so a
/// write torn by a crash is detected at the first bad record. Pure functions, tested at every offset.
enum SegmentFormat {
    static let headerSize = 16
    /// A sanity cap: no single record is larger than this (the HTTP body cap is far below it).
    static let maxPayload = 1 << 30

    static func frame(sequence: UInt64, payload: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(headerSize + payload.count)
        append(UInt32(payload.count), to: &out)
        append(payload.withUnsafeBytes { checksum(sequence: sequence, payload: $0) }, to: &out)
        withUnsafeBytes(of: sequence.littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: payload)
        return out
    }

    static func checksum(sequence: UInt64, payload: UnsafeRawBufferPointer) -> UInt32 {
        var crc = crc32(0, nil, 0)
        withUnsafeBytes(of: sequence.littleEndian) { s in
            crc = crc32(crc, s.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt32(s.count))
        }
        if payload.count > 0 { crc = crc32(crc, payload.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt32(payload.count)) }
        return UInt32(truncatingIfNeeded: crc)
    }

    struct Located: Equatable {
        var sequence: UInt64
        var offset: Int
        var length: Int  // whole frame
    }

    struct Scan: Equatable {
        var records: [Located]
        /// Where the valid prefix ends; equal to the data's size when everything is valid.
        var validEnd: Int
        /// Why scanning stopped early, if it did.
        var problem: String?
    }

    /// Finds every valid record from the start, stopping at the first incomplete or corrupt one.
    static func scan(_ data: UnsafeRawBufferPointer) -> Scan {
        var records: [Located] = []
        var offset = 0
        var lastSequence: UInt64 = 0
        while offset < data.count {
            guard data.count - offset >= headerSize else {
                return Scan(records: records, validEnd: offset, problem: "incomplete record header at offset \(offset)")
            }
            let length = Int(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            let crc = UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            let sequence = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            guard length > 0, length <= maxPayload, data.count - offset - headerSize >= length else {
                return Scan(records: records, validEnd: offset, problem: "incomplete record at offset \(offset)")
            }
            let payload = UnsafeRawBufferPointer(rebasing: data[(offset + headerSize)..<(offset + headerSize + length)])
            guard checksum(sequence: sequence, payload: payload) == crc else {
                return Scan(records: records, validEnd: offset, problem: "checksum mismatch at offset \(offset)")
            }
            guard sequence > lastSequence else {
                return Scan(records: records, validEnd: offset, problem: "sequence out of order at offset \(offset)")
            }
            lastSequence = sequence
            records.append(Located(sequence: sequence, offset: offset, length: headerSize + length))
            offset += headerSize + length
        }
        return Scan(records: records, validEnd: offset, problem: nil)
    }

    private static func append(_ v: UInt32, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }
}
