// Where credentials, region and endpoint come from: the environment and the shared AWS files, as the AWS CLI reads them.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What an AWS API call needs besides its own parameters.
public struct AWSConfiguration: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    /// `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL` (a local endpoint such as moto in tests);
    /// nil means the service's public endpoint in `region`.
    public var endpointOverrides: [String: String]
    public var endpointOverride: String?
    /// The profile the values came from, for messages.
    public var profile: String

    public init(credentials: AWSCredentials, region: String, profile: String = "default", endpointOverride: String? = nil, endpointOverrides: [String: String] = [:]) {
        self.credentials = credentials
        self.region = region
        self.profile = profile
        self.endpointOverride = endpointOverride
        self.endpointOverrides = endpointOverrides
    }

    /// The base URL for `service` (`lambda`): the service's own override, the global one, or
    /// `https://<service>.<region>.amazonaws.com` (`.amazonaws.com.cn` in China regions).
    public func endpoint(for service: String) -> String {
        let key = service.uppercased().replacing("-", with: "_")
        if let url = endpointOverrides[key] ?? endpointOverride { return url }
        return "https://\(service).\(region).amazonaws.com\(region.hasPrefix("cn-") ? ".cn" : "")"
    }

    /// Resolves the configuration as the AWS CLI does, from an injected environment and home directory:
    /// - profile: `profile` argument, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, else `default`;
    /// - credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`) when no
    ///   profile was chosen explicitly, else the profile in the credentials file
    ///   (`AWS_SHARED_CREDENTIALS_FILE`, `~/.aws/credentials`), else in the config file
    ///   (`AWS_CONFIG_FILE`, `~/.aws/config`);
    /// - region: `region` argument, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
    /// Every missing piece is reported in one error, naming where it was looked for.
    public static func resolve(
        environment: [String: String], homeDirectory: String, profile explicitProfile: String? = nil, region explicitRegion: String? = nil
    ) throws(AWSConfigurationError) -> AWSConfiguration {
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let profileFromEnvironment = env("AWS_PROFILE") ?? env("AWS_DEFAULT_PROFILE")
        let profile = explicitProfile ?? profileFromEnvironment ?? "default"
        let credentialsPath = env("AWS_SHARED_CREDENTIALS_FILE") ?? homeDirectory + "/.aws/credentials"
        let configPath = env("AWS_CONFIG_FILE") ?? homeDirectory + "/.aws/config"
        let credentialsFile = read(credentialsPath)
        let configFile = read(configPath)
        let fromCredentials = credentialsFile?.sections[profile]
        let fromConfig = configFile?.configProfile(profile)
        var problems: [String] = []

        var credentials: AWSCredentials?
        if explicitProfile == nil, let id = env("AWS_ACCESS_KEY_ID") {
            if let secret = env("AWS_SECRET_ACCESS_KEY") {
                credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN"))
            } else {
                problems.append("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
            }
        }
        if credentials == nil && problems.isEmpty {
            for section in [fromCredentials, fromConfig].compactMap({ $0 }) {
                guard let id = section["aws_access_key_id"], !id.isEmpty else { continue }
                guard let secret = section["aws_secret_access_key"], !secret.isEmpty else {
                    problems.append("profile '\(profile)' has aws_access_key_id but no aws_secret_access_key")
                    break
                }
                let token = section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
                credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
                break
            }
        }
        if credentials == nil && problems.isEmpty {
            if (explicitProfile != nil || profileFromEnvironment != nil) && fromCredentials == nil && fromConfig == nil {
                problems.append("profile '\(profile)' is in neither \(credentialsPath) nor \(configPath)")
            } else if let section = fromConfig, section["sso_session"] != nil || section["sso_start_url"] != nil || section["credential_process"] != nil || section["role_arn"] != nil {
                problems.append("profile '\(profile)' uses SSO, a role or a credential process, which firefly does not run: export its temporary credentials first (eval \"$(aws configure export-credentials --profile \(profile) --format env)\")")
            } else {
                problems.append("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE naming a profile in \(credentialsPath)")
            }
        }

        let region = explicitRegion ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? fromConfig?["region"].flatMap { $0.isEmpty ? nil : $0 }
        if region == nil {
            problems.append("no AWS region: pass --region, set AWS_REGION, or add region = … to profile '\(profile)' in \(configPath)")
        } else if let region, region.wholeMatch(of: /[a-z]{2}(-[a-z]+)+-\d+/) == nil {
            problems.append("'\(region)' is not an AWS region name (us-east-1)")
        }
        var overrides: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("AWS_ENDPOINT_URL_") && !value.isEmpty {
            overrides[String(name.dropFirst("AWS_ENDPOINT_URL_".count))] = value
        }
        let endpoint = env("AWS_ENDPOINT_URL") ?? fromConfig?["endpoint_url"].flatMap { $0.isEmpty ? nil : $0 }
        for url in [endpoint].compactMap({ $0 }) + overrides.values where URLComponents(string: url)?.host == nil {
            problems.append("endpoint URL '\(url)' is not a URL (http://127.0.0.1:5000)")
        }
        guard problems.isEmpty, let credentials, let region else { throw AWSConfigurationError(problems: problems) }
        return AWSConfiguration(credentials: credentials, region: region, profile: profile, endpointOverride: endpoint, endpointOverrides: overrides)
    }

    private static func read(_ path: String) -> AWSProfileFile? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return AWSProfileFile(text: String(decoding: data, as: UTF8.self))
    }
}

/// Credentials, region or endpoint that could not be resolved; one message per problem, no secrets.
public struct AWSConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.map { "error: \($0)" }.joined(separator: "\n") }
}
