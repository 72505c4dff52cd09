import ArgumentParser
import FireflyCLI
import FireflyAWS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyModel

/// The account, region and endpoint every Lambda subcommand works on.
struct AWSAccountOptions: ParsableArguments {
    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region).")
    var region: String?

    @Option(help: "Profile of ~/.aws/credentials or ~/.aws/config (default: AWS_PROFILE, else the environment's keys, else default).")
    var profile: String?

    func lambda() throws -> LambdaAPI {
        do {
            let configuration = try AWSConfiguration.resolve(
                environment: ProcessInfo.processInfo.environment, homeDirectory: homeDirectory(), profile: profile, region: region)
            return LambdaAPI(client: AWSClient(configuration: configuration))
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

struct AWSFunctions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "functions", abstract: "List the region's Lambda functions: runtime, architecture, memory, OpenTelemetry layer.")

    @OptionGroup var account: AWSAccountOptions

    func run() async throws {
        let lambda = try account.lambda()
        let functions: [LambdaFunction]
        do {
            functions = try await lambda.listFunctions()
        } catch {
            printError("error: ListFunctions: \(error)")
            throw ExitCode(1)
        }
        let rows = functions.sorted { $0.name < $1.name }.map {
            [$0.name, $0.runtime ?? "image", $0.architecture, $0.memorySize.map { "\($0) MB" } ?? "-", $0.hasOpenTelemetry ? "yes" : "no"]
        }
        print(Table.render(header: ["NAME", "RUNTIME", "ARCH", "MEMORY", "INSTRUMENTED"], rows: rows))
        print("\(functions.count) function\(functions.count == 1 ? "" : "s") in \(lambda.client.configuration.region)")
    }
}

struct AWSInstrument: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instrument",
        abstract: "Add the OpenTelemetry Lambda layer and the variables that export traces to Firefly, keeping every existing layer and variable.",
        discussion: """
            The previous values are recorded in the function's firefly:restore:* tags; `firefly aws uninstrument` puts them back. \
            Layers (table as of \(OTelLayerTable.asOf)): \(OTelLayerTable.entries.map { "\($0.layerName):\($0.version) for \($0.runtimes.joined(separator: ", "))" }.joined(separator: "; ")).
            """)

    @Argument(help: "Function names or ARNs.")
    var functions: [String]

    @Option(help: "Firefly's OTLP/HTTP base URL (https://firefly.example.com:4318); the SDK adds /v1/traces.")
    var endpoint: String

    @Option(help: "Layer version ARN to add instead of the table's.")
    var layer: String?

    @Flag(help: "Print the change as a diff and change nothing.")
    var dryRun = false

    @OptionGroup var account: AWSAccountOptions

    func run() async throws {
        guard let url = URLComponents(string: endpoint), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false else {
            printError("error: --endpoint: '\(endpoint)' is not an http(s) URL")
            throw ExitCode(1)
        }
        if let layer, layer.wholeMatch(of: /arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+/) == nil {
            printError("error: --layer: '\(layer)' is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)")
            throw ExitCode(1)
        }
        let lambda = try account.lambda()
        let region = lambda.client.configuration.region
        var failed = 0
        for name in functions {
            do {
                let function = try await lambda.settledFunction(name)
                let tags = try await lambda.tags(function.arn)
                let change: FunctionChange
                do {
                    change = try Instrumentation.instrument(function, tags: tags, endpoint: endpoint, layer: layer, region: region)
                } catch {
                    printError("error: \(error)")
                    failed += 1
                    continue
                }
                if dryRun {
                    print(change.diff)
                    continue
                }
                try await lambda.tag(function.arn, change.tagsToAdd)
                do {
                    _ = try await lambda.updateConfiguration(function.arn, layers: change.layers, environment: change.environment, revisionID: function.revisionID)
                } catch {
                    try? await lambda.untag(function.arn, Array(change.tagsToAdd.keys))
                    throw error
                }
                let set = Instrumentation.variables(wrapper: "", endpoint: "").keys.sorted().joined(separator: ", ")
                print("instrumented \(function.name): added \(change.layers.last ?? ""), set \(set); kept \(function.layers.count) layers, \(function.environment.count) variables")
            } catch {
                printError("error: \(name): \(error)")
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

struct AWSUninstrument: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstrument",
        abstract: "Put back the layers and variables `firefly aws instrument` changed, from the function's firefly:restore:* tags.")

    @Argument(help: "Function names or ARNs.")
    var functions: [String]

    @Flag(help: "Print the change as a diff and change nothing.")
    var dryRun = false

    @OptionGroup var account: AWSAccountOptions

    func run() async throws {
        let lambda = try account.lambda()
        var failed = 0
        for name in functions {
            do {
                let function = try await lambda.settledFunction(name)
                let tags = try await lambda.tags(function.arn)
                let change: FunctionChange
                do {
                    change = try Instrumentation.uninstrument(function, tags: tags)
                } catch {
                    printError("error: \(error)")
                    failed += 1
                    continue
                }
                if dryRun {
                    print(change.diff)
                    continue
                }
                if change.changesConfiguration {
                    _ = try await lambda.updateConfiguration(function.arn, layers: change.layers, environment: change.environment, revisionID: function.revisionID)
                }
                try await lambda.untag(function.arn, change.tagsToRemove)
                print("restored \(function.name): \(change.layers.count) layers, \(change.environment.count) variables")
            } catch {
                printError("error: \(name): \(error)")
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
