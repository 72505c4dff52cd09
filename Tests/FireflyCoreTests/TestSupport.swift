import Foundation

/// Where the package's build products are: `FIREFLY_BUILD_DIR` (set by `make test`), else `.build/debug`.
enum BuildProducts {
    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["FIREFLY_BUILD_DIR"], !dir.isEmpty { return dir }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").path
    }

    static func library(_ product: String) -> String {
        (directory as NSString).appendingPathComponent("lib\(product).so")
    }

    /// A fresh directory holding copies of the named plugin products.
    static func pluginDirectory(_ products: [String]) throws -> String {
        let dir = NSTemporaryDirectory() + "firefly-plugins-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for p in products {
            try FileManager.default.copyItem(atPath: library(p), toPath: "\(dir)/lib\(p).so")
        }
        return dir
    }
}
