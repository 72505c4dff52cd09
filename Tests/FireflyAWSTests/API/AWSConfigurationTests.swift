import FireflyAWS
import Foundation
import Testing

@Suite struct AWSConfigurationTests {
    /// A home directory with the shared files the AWS CLI would write.
    struct Home {
        let path = NSTemporaryDirectory() + "firefly-aws-home-\(UUID().uuidString)"

        init(credentials: String? = nil, config: String? = nil) throws {
            try FileManager.default.createDirectory(atPath: path + "/.aws", withIntermediateDirectories: true)
            if let credentials { try credentials.write(toFile: path + "/.aws/credentials", atomically: true, encoding: .utf8) }
            if let config { try config.write(toFile: path + "/.aws/config", atomically: true, encoding: .utf8) }
        }

        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    static let credentials = """
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = default-secret
        # a comment
        [prod]
        aws_access_key_id=AKIAPROD ; inline comment
        aws_secret_access_key=prod/secret+=
        aws_session_token = prod-token
        """
    static let config = """
        [default]
        region = eu-west-1
        [profile prod]
        region = us-east-2
        s3 =
          max_concurrent_requests = 20
        [profile sso]
        sso_session = corp
        region = us-east-1
        """

    @Test func environmentVariablesComeFirst() throws {
        let home = try Home(credentials: Self.credentials, config: Self.config)
        defer { home.remove() }
        let c = try AWSConfiguration.resolve(
            environment: ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token", "AWS_DEFAULT_REGION": "sa-east-1"],
            homeDirectory: home.path)
        #expect(c.credentials == AWSCredentials(accessKeyID: "AKIAENV", secretAccessKey: "env-secret", sessionToken: "env-token"))
        #expect(c.region == "sa-east-1")
        #expect(c.endpoint(for: "lambda") == "https://lambda.sa-east-1.amazonaws.com")
    }

    @Test func profilesFromTheSharedFiles() throws {
        let home = try Home(credentials: Self.credentials, config: Self.config)
        defer { home.remove() }
        let d = try AWSConfiguration.resolve(environment: [:], homeDirectory: home.path)
        #expect(d.credentials == AWSCredentials(accessKeyID: "AKIADEFAULT", secretAccessKey: "default-secret"))
        #expect(d.region == "eu-west-1")
        let p = try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "prod", "AWS_REGION": "ap-south-1"], homeDirectory: home.path)
        #expect(p.credentials == AWSCredentials(accessKeyID: "AKIAPROD", secretAccessKey: "prod/secret+=", sessionToken: "prod-token"))
        #expect(p.region == "ap-south-1")
        let q = try AWSConfiguration.resolve(environment: ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "x"], homeDirectory: home.path, profile: "prod")
        #expect(q.credentials.accessKeyID == "AKIAPROD")
        #expect(q.region == "us-east-2")
        let r = try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "prod"], homeDirectory: home.path, region: "cn-north-1")
        #expect(r.endpoint(for: "lambda") == "https://lambda.cn-north-1.amazonaws.com.cn")
    }

    @Test func endpointOverrides() throws {
        let env = ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"]
        let home = try Home()
        defer { home.remove() }
        #expect(try AWSConfiguration.resolve(environment: env, homeDirectory: home.path).endpoint(for: "lambda") == "http://127.0.0.1:5000")
        var both = env
        both["AWS_ENDPOINT_URL_LAMBDA"] = "http://127.0.0.1:6000"
        #expect(try AWSConfiguration.resolve(environment: both, homeDirectory: home.path).endpoint(for: "lambda") == "http://127.0.0.1:6000")
        #expect(try AWSConfiguration.resolve(environment: both, homeDirectory: home.path).endpoint(for: "sts") == "http://127.0.0.1:5000")
    }

    @Test func everyMissingPieceIsReportedWithoutSecrets() throws {
        let home = try Home(credentials: Self.credentials, config: Self.config)
        defer { home.remove() }
        #expect {
            try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "nope"], homeDirectory: home.path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("profile 'nope' is in neither") && text.contains("no AWS region")
        }
        #expect {
            try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "sso"], homeDirectory: home.path)
        } throws: { error in
            "\(error)".contains("export-credentials --profile sso")
        }
        #expect {
            try AWSConfiguration.resolve(environment: ["AWS_ACCESS_KEY_ID": "AKIAONLY", "AWS_REGION": "moon-1"], homeDirectory: home.path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("AWS_SECRET_ACCESS_KEY is not") && text.contains("'moon-1' is not an AWS region") && !text.contains("default-secret")
        }
        let empty = try Home()
        defer { empty.remove() }
        #expect {
            try AWSConfiguration.resolve(environment: ["AWS_REGION": "us-east-1"], homeDirectory: empty.path)
        } throws: { error in
            "\(error)".contains("no AWS credentials")
        }
    }
}
