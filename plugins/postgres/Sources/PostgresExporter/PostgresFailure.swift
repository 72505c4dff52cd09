// Sorts what went wrong into "try again later" and "this batch can never be written", with a message
// that names the server by its redacted URL and quotes PostgreSQL's own words.
import FireflyPluginKit
import PostgresNIO

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
        case let e as PSQLError:
            return classify(e, server: server)
        case let e as PostgresTransactionError:
            // The first thing that failed decides; a failed ROLLBACK means the connection is unusable.
            guard let cause = e.beginError ?? e.closureError ?? e.commitError ?? e.rollbackError else {
                return PostgresFailure(kind: .retryable, message: "\(server): transaction failed", resetsConnection: true)
            }
            var failure = classify(cause, server: server)
            if e.rollbackError != nil { failure.resetsConnection = true }
            return failure
        case is SeriesMissing:
            return PostgresFailure(
                kind: .retryable, message: "\(server): series ids went missing; the schema will be checked again",
                resetsSchema: true)
        case is CancellationError:
            return PostgresFailure(kind: .retryable, message: "export to \(server) was cancelled", resetsConnection: true)
        default:
            // Pool errors (circuit breaker open, pool shut down) and I/O errors from below the driver.
            return PostgresFailure(
                kind: .retryable, message: limit("\(server): \(String(describing: error))"), resetsConnection: true)
        }
    }

    static func classify(_ error: PSQLError, server: String) -> PostgresFailure {
        if let info = error.serverInfo, let state = info[.sqlState] {
            var text = "\(server): PostgreSQL error \(state): \(info[.message] ?? "")"
            if let detail = info[.detail] { text += "; detail: \(detail)" }
            if let hint = info[.hint] { text += "; hint: \(hint)" }
            if let context = info[.locationContext] { text += "; context: \(context)" }
            let (kind, reset) = kind(ofSQLState: state)
            // The server breaks hints across lines; a dead-letter reason and a log line are one line each.
            text = text.split(whereSeparator: \.isNewline).joined(separator: " ")
            return PostgresFailure(
                kind: kind, message: limit(text), sqlState: state,
                resetsConnection: reset, resetsSchema: ["42P01", "3F000"].contains(state))
        }
        let what: String
        switch error.code {
        case .connectionError:
            what = "cannot connect" + (error.underlying.map { ": \(String(describing: $0))" } ?? "")
        case .serverClosedConnection: what = "the server closed the connection"
        case .uncleanShutdown: what = "the connection ended uncleanly"
        case .clientClosedConnection, .poolClosed: what = "the connection was closed"
        case .sslUnsupported: what = "the server does not offer TLS, but tls requires it"
        case .queryCancelled: what = "the query was cancelled"
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            what = "authentication failed (\(error.code)); check the user and password in url"
        case .tooManyParameters:
            return PostgresFailure(kind: .permanent, message: "\(server): a statement had more than 65535 parameters")
        default: what = "\(error.code)" + (error.underlying.map { ": \(String(describing: $0))" } ?? "")
        }
        return PostgresFailure(kind: .retryable, message: limit("\(server): \(what)"), resetsConnection: true)
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
