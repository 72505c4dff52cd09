import CZlib
import FireflyModel

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
        var w = writer(capacity: payload.count)
        w.bytes.append(contentsOf: payload)
        seal(&w.bytes, sequence: sequence, payloadChecksum: payloadChecksum(w.bytes))
        return w.bytes
    }

    /// A writer holding room for the header; the payload is written after it, then `seal` fills it in.
    static func writer(capacity: Int) -> ByteWriter {
        var w = ByteWriter(capacity: headerSize + capacity)
        w.bytes.append(contentsOf: repeatElement(0, count: headerSize))
        return w
    }

    /// CRC-32 of the payload after the header room; computed before the sequence is known.
    static func payloadChecksum(_ frame: [UInt8]) -> UInt32 {
        frame.withUnsafeBytes { crc(UnsafeRawBufferPointer(rebasing: $0[headerSize...])) }
    }

    /// Fills in the header of a frame from `writer`: length, CRC of (sequence + payload), sequence.
    static func seal(_ frame: inout [UInt8], sequence: UInt64, payloadChecksum: UInt32) {
        let length = frame.count - headerSize
        let crc = checksum(sequence: sequence, payloadChecksum: payloadChecksum, length: length)
        frame.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: sequence.littleEndian, toByteOffset: 8, as: UInt64.self)
        }
    }

    /// The record's CRC: of its sequence's 8 bytes followed by the payload, from the payload's own CRC.
    static func checksum(sequence: UInt64, payloadChecksum: UInt32, length: Int) -> UInt32 {
        let head = withUnsafeBytes(of: sequence.littleEndian) { crc($0) }
        return UInt32(truncatingIfNeeded: crc32_combine(uLong(head), uLong(payloadChecksum), off_t(length)))
    }

    private static func crc(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return UInt32(truncatingIfNeeded: crc32(0, nil, 0)) }
        return UInt32(truncatingIfNeeded: crc32(0, base.assumingMemoryBound(to: UInt8.self), UInt32(bytes.count)))
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
            let stored = UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            let sequence = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            guard length > 0, length <= maxPayload, data.count - offset - headerSize >= length else {
                return Scan(records: records, validEnd: offset, problem: "incomplete record at offset \(offset)")
            }
            let payload = UnsafeRawBufferPointer(rebasing: data[(offset + headerSize)..<(offset + headerSize + length)])
            guard checksum(sequence: sequence, payloadChecksum: crc(payload), length: length) == stored else {
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
}
