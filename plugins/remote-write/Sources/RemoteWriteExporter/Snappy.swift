// Snappy block compression (not the framed format) through the system libsnappy.
import CSnappy

/// Snappy's block format, which remote-write requires (the framed/stream format, starting with
/// `ff 06 00 00 73 4e 61 50 70 59`, is rejected by receivers).
public enum Snappy {
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        let capacity = snappy_max_compressed_length(input.count)
        var output = [UInt8](repeating: 0, count: capacity)
        var length = capacity
        let status = input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                src.withMemoryRebound(to: CChar.self) { s in
                    dst.withMemoryRebound(to: CChar.self) { d in
                        snappy_compress(s.baseAddress, s.count, d.baseAddress, &length)
                    }
                }
            }
        }
        // snappy_compress fails only when the output buffer is too small, which the
        // library's own bound rules out.
        precondition(status == SNAPPY_OK, "snappy_compress failed with status \(status.rawValue)")
        output.removeSubrange(length...)
        return output
    }

    /// Decompresses a snappy block; nil when the input is not a valid block.
    public static func uncompress(_ input: [UInt8]) -> [UInt8]? {
        var length = 0
        let okLength = input.withUnsafeBufferPointer { src in
            src.withMemoryRebound(to: CChar.self) { snappy_uncompressed_length($0.baseAddress, $0.count, &length) }
        }
        guard okLength == SNAPPY_OK else { return nil }
        var output = [UInt8](repeating: 0, count: length)
        let status = input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                src.withMemoryRebound(to: CChar.self) { s in
                    dst.withMemoryRebound(to: CChar.self) { d in
                        snappy_uncompress(s.baseAddress, s.count, d.baseAddress, &length)
                    }
                }
            }
        }
        guard status == SNAPPY_OK else { return nil }
        output.removeSubrange(length...)
        return output
    }
}
