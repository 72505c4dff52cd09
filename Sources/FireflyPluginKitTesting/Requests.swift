public import FireflyPluginKit
public import Foundation

extension PluginRequest {
    /// A POST of `body` to `path`, with `Content-Type` when given and further headers.
    public static func post(
        _ path: String, _ body: [UInt8], contentType: String? = nil, headers: [(name: String, value: String)] = []
    ) -> PluginRequest {
        var all = headers
        if let contentType { all.append((name: "Content-Type", value: contentType)) }
        return PluginRequest(method: "POST", path: path, headers: all, body: body)
    }
}

extension PluginResponse {
    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The first value of a response header (name compared case-insensitively).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A plugin's `testdata/` folder: `TestData(besides: #filePath)` from a file in `plugins/<name>/Tests/`.
public struct TestData: Sendable {
    public let directory: URL

    /// The `testdata` folder next to the folder that holds `file`.
    public init(besides file: String) {
        directory = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("testdata")
    }

    public func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
    public func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }
    public func bytes(_ name: String) throws -> [UInt8] { Array(try data(name)) }
    public func text(_ name: String) throws -> String { String(decoding: try data(name), as: UTF8.self) }
}
