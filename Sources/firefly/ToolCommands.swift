// `firefly grafana|demo|aws …` run `firefly-tools`, built next to `firefly`.
import ArgumentParser
import FireflyCLI
import FireflyModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The commands that live in `firefly-tools`: the collector's binary only names them (for
/// `firefly --help`) and hands the command line over.
enum ToolCommands {
    static let names = Set(ToolCommand.allCases.map(\.rawValue))

    /// Help entries, never run: `runIfNamed` replaces the process first.
    static let listed: [any ParsableCommand.Type] = [GrafanaEntry.self, DemoEntry.self, AWSEntry.self]

    /// Replaces this process with `firefly-tools` when `arguments` name one of its commands
    /// (`firefly aws …`, `firefly help aws …`); returns otherwise.
    static func runIfNamed(_ arguments: [String]) {
        let rest = Array(arguments.dropFirst())
        guard let first = rest.first else { return }
        let named = names.contains(first) || (first == "help" && rest.count > 1 && names.contains(rest[1]))
        guard named else { return }
        let tools = PathText.join(PathText.directory(executablePath()), "firefly-tools")
        var argv: [UnsafeMutablePointer<CChar>?] = ([tools] + rest).map { strdup($0) }
        argv.append(nil)
        execv(tools, &argv)
        let reason = String(cString: strerror(errno))
        printError(
            "error: 'firefly \(first == "help" ? rest[1] : first)' runs \(tools), which cannot be started (\(reason)); "
                + "it is built with firefly (`make build`)")
        exit(127)
    }

    private static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

struct GrafanaEntry: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: ToolCommand.grafana.rawValue, abstract: ToolCommand.grafana.abstract)
}

struct DemoEntry: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: ToolCommand.demo.rawValue, abstract: ToolCommand.demo.abstract)
}

struct AWSEntry: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: ToolCommand.aws.rawValue, abstract: ToolCommand.aws.abstract)
}
