@testable import FireflyAWS
import FireflyTestSupport
import Foundation
import Testing

@Suite struct SigV4Tests {
    /// The credentials, region, service and time of AWS's published SigV4 test suite.
    static let example = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let exampleTime = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static func authorization(_ request: SigV4Signer.Request, _ credentials: AWSCredentials = example, region: String = "us-east-1", service: String = "service", at date: Date = exampleTime) -> String {
        SigV4Signer(credentials: credentials, region: region, service: service).sign(request, at: date).first { $0.name == "Authorization" }?.value ?? ""
    }

    /// Signatures published with AWS's SigV4 test suite (get-vanilla, get-vanilla-query-order-key-case, post-vanilla).
    @Test func matchesAWSPublishedTestSuite() {
        let host = [(name: "Host", value: "example.amazonaws.com")]
        let prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
        #expect(Self.authorization(.init(method: "GET", path: "/", headers: host)) == prefix + "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(
            Self.authorization(.init(method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")], headers: host))
                == prefix + "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
        #expect(Self.authorization(.init(method: "POST", path: "/", headers: host)) == prefix + "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    @Test func timestampAndDotSegments() {
        #expect(SigV4Signer.timestamp(Self.exampleTime) == "20150830T123600Z")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 1_798_761_599.9)) == "20261231T235959Z")
        #expect(SigV4Signer.removeDotSegments("/a/./b/../c//d/") == "/a/c/d/")
        #expect(SigV4Signer.removeDotSegments("") == "/")
        #expect(SigV4Signer.removeDotSegments("/..") == "/")
        #expect(SigV4Signer.encode("arn:aws:lambda:us-east-1:1:function:f ü/x", keepingSlash: false) == "arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af%20%C3%BC%2Fx")
    }

    @Test func sessionTokenIsSentAndSigned() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "wJalrXUtnFEMI", sessionToken: "token/with+chars=")
        let headers = SigV4Signer(credentials: credentials, region: "eu-west-1", service: "lambda")
            .sign(.init(method: "GET", path: "/", headers: [("Host", "lambda.eu-west-1.amazonaws.com")]), at: Self.exampleTime)
        #expect(headers.map(\.name) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        #expect(headers[1].value == "token/with+chars=")
        #expect(headers[2].value.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
        #expect(!credentials.description.contains("wJalrXUtnFEMI") && !credentials.description.contains("token/"))
        #expect(credentials.description.contains("AKID"))
    }

    struct OracleCase: Codable {
        var method: String
        var url: String
        var headers: [String: String]
        var body: String
        var access_key: String
        var secret_key: String
        var token: String?
        var region: String
        var service: String
        var time: String
    }

    struct OracleAnswer: Codable {
        var authorization: String
        var xAmzDate: String
        var xAmzSecurityToken: String?

        enum CodingKeys: String, CodingKey {
            case authorization
            case xAmzDate = "x-amz-date"
            case xAmzSecurityToken = "x-amz-security-token"
        }
    }

    static let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("sigv4_oracle.py").path
    static let botocoreInstalled = (try? run("/usr/bin/env", ["python3", "-c", "import botocore"]).status) == 0

    /// The same requests, credentials and times signed by botocore (moto[server] brings it).
    @Test(.enabled(if: botocoreInstalled || ProcessInfo.processInfo.environment["CI"] == "true", "botocore is not installed (pip install 'moto[server]')"))
    func signaturesEqualBotocores() async throws {
        let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+/session=="
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:checkout-api"
        let cases: [(SigV4Signer.Request, AWSCredentials, String, String, Date)] = [
            (.init(method: "GET", path: "/2015-03-31/functions/", query: [("MaxItems", "50")], headers: [("Host", "lambda.us-east-1.amazonaws.com")]),
             Self.example, "us-east-1", "lambda", Self.exampleTime),
            (.init(method: "GET", path: "/2015-03-31/functions/", query: [("Marker", "eyJ2IjoxfQ==/+ x"), ("MaxItems", "50"), ("FunctionVersion", "ALL")],
                   headers: [("Host", "lambda.eu-central-1.amazonaws.com")]),
             AWSCredentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "s3cr3t/+=", sessionToken: token), "eu-central-1", "lambda",
             Date(timeIntervalSince1970: 1_796_386_543)),
            (.init(method: "PUT", path: "/2015-03-31/functions/" + SigV4Signer.encode(arn, keepingSlash: false) + "/configuration",
                   headers: [("Host", "lambda.us-east-1.amazonaws.com"), ("Content-Type", "application/json")],
                   body: Array(#"{"Layers":["arn:aws:lambda:us-east-1:1:layer:x:1"],"Environment":{"Variables":{"A":"ü b"}}}"#.utf8)),
             AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token), "us-east-1", "lambda",
             Self.exampleTime),
            (.init(method: "DELETE", path: "/2017-03-31/tags/" + SigV4Signer.encode(arn, keepingSlash: false),
                   query: [("tagKeys", "firefly:restore:1"), ("tagKeys", "firefly:restore:0"), ("empty", "")],
                   headers: [("Host", "127.0.0.1:5000"), ("X-Custom", "  spaced   value  ")]),
             Self.example, "ap-southeast-2", "lambda", Date(timeIntervalSince1970: 1_700_000_000)),
            (.init(method: "POST", path: "/a/./b/../c//d", query: [("q", "a b&c=d"), ("Z", "1"), ("a", "2")], headers: [("Host", "example.amazonaws.com")], body: Array("x=1".utf8)),
             Self.example, "us-west-2", "service", Self.exampleTime),
        ]
        let inputs = cases.map { request, credentials, region, service, date in
            OracleCase(
                method: request.method,
                url: "https://\(request.headers[0].value)\(request.path)\(request.encodedQuery.isEmpty ? "" : "?" + request.encodedQuery)",
                headers: Dictionary(uniqueKeysWithValues: request.headers.map { ($0.name, $0.value) }), body: String(decoding: request.body, as: UTF8.self),
                access_key: credentials.accessKeyID, secret_key: credentials.secretAccessKey, token: credentials.sessionToken, region: region,
                service: service, time: SigV4Signer.timestamp(date))
        }
        let input = try JSONEncoder().encode(inputs)
        let result = try await offThePool { try run("/usr/bin/env", ["python3", Self.oracle], input: input) }
        #expect(result.status == 0, "\(result.stderr)")
        let answers = try JSONDecoder().decode([OracleAnswer].self, from: result.output)
        #expect(answers.count == cases.count)
        for ((request, credentials, region, service, date), answer) in zip(cases, answers) {
            let ours = SigV4Signer(credentials: credentials, region: region, service: service).sign(request, at: date)
            #expect(ours.first { $0.name == "Authorization" }?.value == answer.authorization, "\(request.method) \(request.path)")
            #expect(ours.first { $0.name == "X-Amz-Date" }?.value == answer.xAmzDate)
            #expect(ours.first { $0.name == "X-Amz-Security-Token" }?.value == answer.xAmzSecurityToken)
        }
    }
}
