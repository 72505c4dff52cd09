import CZlib
import FireflyModel

/// The on-disk framing of queue records, in segment files of the durable queue:
///
///     u32 payload length | u32 CRC-32 of (sequence bytes + payload) | u64 sequence | payload
///
/// all little-endian. A record is valid only when all of it is present and the CRC matches, so a
/// write torn by a crash is detected at the first bad record, and damage anywhere is skipped by
/// resynchronising on the next frame that checks out. Pure functions, tested at every offset.
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

    /// A stretch of a segment holding no frame that checks out, from a frame that failed its check
    /// up to the next frame that passes (or the end of the data).
    struct Damage: Equatable {
        var start: Int
        var end: Int
        /// Why the frame at `start` failed.
        var reason: String

        var bytes: Int { end - start }
    }

    struct Scan: Equatable {
        var records: [Located]
        /// Damaged stretches, in order; records before and after each are kept.
        var damage: [Damage]

        /// Where the valid prefix ends (the data's size when nothing is damaged).
        var validEnd: Int { damage.first?.start ?? records.last.map { $0.offset + $0.length } ?? 0 }
    }

    /// Whether the frame at an offset checks out, and if not why (no text is built per offset:
    /// resynchronising checks every offset of a damaged stretch).
    private enum Check {
        case valid(sequence: UInt64, length: Int)
        case incompleteHeader, incompleteRecord, sequenceOutOfOrder, checksumMismatch

        var reason: String {
            switch self {
            case .valid: "valid"
            case .incompleteHeader: "incomplete record header"
            case .incompleteRecord: "incomplete record"
            case .sequenceOutOfOrder: "sequence out of order"
            case .checksumMismatch: "checksum mismatch"
            }
        }
    }

    /// Checks the frame at `offset`: complete, a sequence in `sequences`, a matching CRC. The cheap
    /// tests come first, so that resynchronising byte by byte past damage stays fast.
    private static func check(_ data: UnsafeRawBufferPointer, at offset: Int, sequences: ClosedRange<UInt64>) -> Check {
        guard data.count - offset >= headerSize else { return .incompleteHeader }
        let length = Int(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        guard length > 0, length <= maxPayload, data.count - offset - headerSize >= length else {
            return .incompleteRecord
        }
        let sequence = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        guard sequences.contains(sequence) else { return .sequenceOutOfOrder }
        let stored = UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        let payload = UnsafeRawBufferPointer(rebasing: data[(offset + headerSize)..<(offset + headerSize + length)])
        guard checksum(sequence: sequence, payloadChecksum: crc(payload), length: length) == stored else {
            return .checksumMismatch
        }
        return .valid(sequence: sequence, length: headerSize + length)
    }

    /// Finds every record that checks out. After a frame that fails, scanning resumes at the next
    /// offset where a whole frame checks out (its sequence above the last one kept and within
    /// `sequences`), so the records after damage are kept. `sequences` is what the segment can hold:
    /// from its first sequence (its file name) to below the next segment's.
    static func scan(_ data: UnsafeRawBufferPointer, sequences: ClosedRange<UInt64> = 1...UInt64.max) -> Scan {
        var records: [Located] = []
        var damage: [Damage] = []
        var offset = 0
        var lower = sequences.lowerBound
        while offset < data.count {
            switch check(data, at: offset, sequences: lower...sequences.upperBound) {
            case .valid(let sequence, let length):
                records.append(Located(sequence: sequence, offset: offset, length: length))
                offset += length
                guard sequence < sequences.upperBound else {
                    if offset < data.count { damage.append(Damage(start: offset, end: data.count, reason: "data after the last sequence")) }
                    return Scan(records: records, damage: damage)
                }
                lower = sequence + 1
            case let failed:
                var next = offset + 1
                while next < data.count {
                    if case .valid = check(data, at: next, sequences: resyncWindow(lower, sequences.upperBound, skipped: next - offset)) {
                        break
                    }
                    next += 1
                }
                damage.append(Damage(start: offset, end: next, reason: "\(failed.reason) at offset \(offset)"))
                offset = next
            }
        }
        return Scan(records: records, damage: damage)
    }

    /// Sequences missing right after damage beyond those of the frames it could have held, for which
    /// the next frame is still found: a write that failed (disk full) used its batch's sequences.
    static let resyncSlack: UInt64 = 1 << 16

    /// The sequences a frame found `skipped` bytes after damage can have: above the last one kept,
    /// and at most one per frame the skipped bytes could have held (plus `resyncSlack`). A payload
    /// seldom holds such a number where a sequence would be, so candidates inside payloads are
    /// mostly refused before their CRC is computed, which keeps resynchronising linear in practice.
    private static func resyncWindow(_ lower: UInt64, _ upper: UInt64, skipped: Int) -> ClosedRange<UInt64> {
        let reach = UInt64(skipped / (headerSize + 1)) + resyncSlack
        return lower...(upper - lower > reach ? lower + reach : upper)
    }

    /// The sequence of a frame read as its header and its payload apart, when the two check out as
    /// one whole frame (the checks of `scan`, on a frame known to end where the payload does).
    static func sequence(ofHeader header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> UInt64? {
        guard header.count == headerSize else { return nil }
        let length = Int(UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        let stored = UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let sequence = UInt64(littleEndian: header.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        guard length > 0, length == payload.count, sequence > 0,
            checksum(sequence: sequence, payloadChecksum: crc(payload), length: length) == stored
        else { return nil }
        return sequence
    }

    /// Whether damage reaching the end of the newest segment is a torn tail: a last frame cut short
    /// by a crash (its header incomplete, or promising more bytes than follow, or zeros where the
    /// file system had extended the file). A whole frame whose check fails is damage, and so is a
    /// frame whose length field alone was altered: its bytes to the end still check out as a frame.
    static func isTornTail(_ data: UnsafeRawBufferPointer, _ d: Damage, sequences: ClosedRange<UInt64>) -> Bool {
        guard d.end == data.count else { return false }
        let rest = UnsafeRawBufferPointer(rebasing: data[d.start...])
        guard rest.count >= headerSize else { return true }
        let length = Int(UInt32(littleEndian: rest.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        if length > 0, length <= rest.count - headerSize { return false }  // a whole frame that failed its CRC
        if rest.allSatisfy({ $0 == 0 }) { return true }
        // Read with the length the remaining bytes give: if that checks out, only the length was altered.
        let sequence = UInt64(littleEndian: rest.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let stored = UInt32(littleEndian: rest.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let payload = UnsafeRawBufferPointer(rebasing: rest[headerSize...])
        return !(sequences.contains(sequence) && checksum(sequence: sequence, payloadChecksum: crc(payload), length: payload.count) == stored)
    }
}
