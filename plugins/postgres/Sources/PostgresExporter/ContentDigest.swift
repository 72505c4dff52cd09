// The digest behind the content keys of log records that arrive without an id.
import Crypto

enum ContentDigest {
    /// SHA-256 of `bytes` (swift-crypto).
    static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}
