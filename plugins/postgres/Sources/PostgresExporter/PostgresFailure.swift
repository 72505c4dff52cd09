// Sorts what went wrong into "try again later" and "this batch can never be written", with a message
// that names the server by its redacted URL and quotes PostgreSQL's own words.
import FireflyPluginKit

/// No connection was leased within `connect_timeout` (the server is down, unreachable or refusing us).
struct LeaseTimeout: Error {}

/// A write that had its connection did not finish within `PostgresWriter.writeTimeout`.
struct WriteTimeout: Error {}

/// A series id the database should have returned is missing (the series table was emptied).
struct SeriesMissing: Error {}

/// One classified failure of an export.
struct PostgresFailure: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// The server or the network: wait and send the same batch again.
        case retryable
        /// The data: the same batch will fail the same way.
        case permanent
    }

    var kind: Kind
    var message: String
    /// The SQLSTATE, when the server sent one.
    var sqlState: String?
    /// The client should be dropped and built anew (its connections are gone or never came).
    var resetsConnection: Bool = false
    /// Firefly's tables are missing (dropped behind our back): run the migrations again.
    var resetsSchema: Bool = false

    var result: ExportResult {
        switch kind {
        case .retryable: .retryable(after: nil, message: message)
        case .permanent: .permanent(message: message)
        }
    }

    /// Messages quote the server, which may quote the rejected row: keep them readable.
    static let maximumMessageLength = 2000

    static func classify(_ error: any Error, server: String) -> PostgresFailure {
        switch error {
        case is LeaseTimeout:
            return PostgresFailure(
                kind: .retryable, message: "no connection to \(server) within connect_timeout", resetsConnection: true)
        case is WriteTimeout:
            return PostgresFailure(
                kind: .retryable,
                message: "export to \(server) did not finish within \(PostgresWriter.writeTimeout) of getting its connection",
                resetsConnection: true)
        case let e as PQServerError:
            return classify(e, server: server)
        case let e as ConnectFailure:
            return PostgresFailure(
                kind: .retryable, message: limit("no connection to \(server) within connect_timeout: cannot connect: \(e.message)"),
                resetsConnection: true)
        case let e as PQClientError:
            return PostgresFailure(kind: .retryable, message: limit("\(server): \(e.message)"), resetsConnection: true)
        case is SeriesMissing:
            return PostgresFailure(
                kind: .retryable, message: "\(server): series ids went missing; the schema will be checked again",
                resetsSchema: true)
        case is CancellationError:
            return PostgresFailure(kind: .retryable, message: "export to \(server) was cancelled", resetsConnection: true)
        default:
            // Anything else from below the driver.
            return PostgresFailure(
                kind: .retryable, message: limit("\(server): \(String(describing: error))"), resetsConnection: true)
        }
    }

    static func classify(_ error: PQServerError, server: String) -> PostgresFailure {
        let state = error.sqlState
        var text = "\(server): PostgreSQL error \(state): \(error.message)"
        if let detail = error.detail { text += "; detail: \(detail)" }
        if let hint = error.hint { text += "; hint: \(hint)" }
        if let context = error.context { text += "; context: \(context)" }
        let (kind, reset) = kind(ofSQLState: state)
        // The server breaks hints across lines; a dead-letter reason and a log line are one line each.
        text = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return PostgresFailure(
            kind: kind, message: limit(text), sqlState: state,
            resetsConnection: reset, resetsSchema: ["42P01", "3F000"].contains(state))
    }

    /// Data errors (classes 22 and 23, program limits 54, and statement errors 42 other than missing
    /// tables or privileges) are permanent; everything else — connection (08), shutdown (57P0x),
    /// resources (53), conflicts (40), authentication (28), a missing database (3D) — is retryable.
    static func kind(ofSQLState state: String) -> (Kind, resetsConnection: Bool) {
        let klass = state.prefix(2)
        switch klass {
        case "22", "23", "54":
            return (.permanent, false)
        case "42" where !["42P01", "42501", "3F000"].contains(state):
            return (.permanent, false)
        case "08", "28", "3D":
            return (.retryable, true)
        case "57" where state.hasPrefix("57P"):
            return (.retryable, true)
        default:
            return (.retryable, false)
        }
    }

    static func limit(_ text: String) -> String {
        guard text.count > maximumMessageLength else { return text }
        return String(text.prefix(maximumMessageLength)) + "… (\(text.count - maximumMessageLength) more characters)"
    }
}
