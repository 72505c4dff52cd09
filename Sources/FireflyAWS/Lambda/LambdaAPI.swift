// The Lambda API calls `firefly aws functions / instrument / uninstrument` make.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Lambda's REST-JSON API over a signed `AWSClient`.
public struct LambdaAPI: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    /// Every function of the region, following `NextMarker` through every page.
    public func listFunctions(pageSize: Int = 50) async throws(AWSError) -> [LambdaFunction] {
        struct Page: Decodable {
            var Functions: [LambdaFunction]?
            var NextMarker: String?
        }
        var functions: [LambdaFunction] = []
        var marker: String?
        var pages = 0
        repeat {
            var query: [(name: String, value: String)] = [("MaxItems", String(pageSize))]
            if let marker { query.append(("Marker", marker)) }
            let page = try decode(Page.self, try await client.call(service: "lambda", method: "GET", path: ["2015-03-31", "functions", ""], query: query))
            functions += page.Functions ?? []
            marker = page.NextMarker.flatMap { $0.isEmpty ? nil : $0 }
            pages += 1
            if pages > 100_000 { throw AWSError(code: "InvalidResponse", message: "ListFunctions did not stop paging") }
        } while marker != nil
        return functions
    }

    public func function(_ name: String) async throws(AWSError) -> LambdaFunction {
        try decode(LambdaFunction.self, try await client.call(service: "lambda", method: "GET", path: ["2015-03-31", "functions", name, "configuration"]))
    }

    /// The function's configuration once no earlier update is still being applied (Lambda applies
    /// configuration changes asynchronously and refuses another update meanwhile), waiting up to
    /// `seconds`.
    public func settledFunction(_ name: String, seconds: Int = 60) async throws(AWSError) -> LambdaFunction {
        var function = try await self.function(name)
        var waited = 0
        while function.lastUpdateStatus == "InProgress" {
            guard waited < seconds else {
                throw AWSError(code: "UpdateInProgress", message: "\(name) is still applying an earlier update after \(seconds) s; try again later")
            }
            try? await Task.sleep(for: .seconds(1))
            waited += 1
            function = try await self.function(name)
        }
        return function
    }

    /// Replaces the function's layers and environment variables (the whole lists: Lambda has no
    /// partial update), only if the function is still at `revisionID`.
    public func updateConfiguration(_ name: String, layers: [String], environment: [String: String], revisionID: String?) async throws(AWSError) -> LambdaFunction {
        struct Variables: Encodable { var Variables: [String: String] }
        struct Body: Encodable {
            var Layers: [String]
            var Environment: Variables
            var RevisionId: String?
        }
        let json = JSONEncoder.sortedBytes(Body(Layers: layers, Environment: Variables(Variables: environment), RevisionId: revisionID))
        return try decode(
            LambdaFunction.self, try await client.call(service: "lambda", method: "PUT", path: ["2015-03-31", "functions", name, "configuration"], json: json))
    }

    public func tags(_ arn: String) async throws(AWSError) -> [String: String] {
        struct Tags: Decodable { var Tags: [String: String]? }
        return try decode(Tags.self, try await client.call(service: "lambda", method: "GET", path: ["2017-03-31", "tags", arn])).Tags ?? [:]
    }

    public func tag(_ arn: String, _ tags: [String: String]) async throws(AWSError) {
        let json = JSONEncoder.sortedBytes(["Tags": tags])
        _ = try await client.call(service: "lambda", method: "POST", path: ["2017-03-31", "tags", arn], json: json)
    }

    public func untag(_ arn: String, _ keys: [String]) async throws(AWSError) {
        guard !keys.isEmpty else { return }
        _ = try await client.call(service: "lambda", method: "DELETE", path: ["2017-03-31", "tags", arn], query: keys.map { ("tagKeys", $0) })
    }

    private func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws(AWSError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw AWSError(code: "InvalidResponse", message: "Lambda answered something other than the expected \(type): \(error)")
        }
    }
}
