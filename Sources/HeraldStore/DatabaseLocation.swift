import Foundation

/// Where Herald's database is, parsed from a database URL: `sqlite://path`, `sqlite:path`, a bare
/// file path, or `postgres://user:password@host:port/database` (`postgresql://` too).
///
/// Its `description` never contains a password.
public enum DatabaseLocation: Sendable, Hashable, CustomStringConvertible {
    /// An SQLite file (created by `herald migrate` and `herald serve` when missing).
    case sqlite(path: String)
    /// A PostgreSQL server and database.
    case postgres(PostgresAddress)

    /// A PostgreSQL server, its credentials and database.
    public struct PostgresAddress: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        /// The database name; `nil` for the server's default (the user's name).
        public var database: String?

        public init(host: String, port: Int = 5432, username: String = "postgres", password: String? = nil, database: String? = nil) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
        }

        /// `host:port` (IPv6 hosts in brackets), for messages.
        public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Why a database URL was refused.
    public struct InvalidURL: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong, without the URL's password.
        public var description: String
    }

    /// The schemes Herald can open.
    public static let supportedSchemes = ["sqlite", "postgres", "postgresql"]

    /// Parses `url`. Throws for a scheme other than `sqlite`, `postgres` or `postgresql`, an
    /// SQLite URL without a path, and a PostgreSQL URL without a host, with a port outside
    /// 1–65535, with a path of more than one segment, or with query parameters.
    public init(url: String) throws(InvalidURL) {
        if let range = url.range(of: "://") {
            let scheme = String(url[..<range.lowerBound])
            switch scheme.lowercased() {
            case "sqlite":
                self = try Self.sqlite(String(url[range.upperBound...]))
            case "postgres", "postgresql":
                self = .postgres(try Self.postgres(url))
            default:
                throw InvalidURL(description: "unsupported database URL scheme \"\(scheme)\" (use sqlite://path or postgres://user:password@host:port/database)")
            }
        } else if url.lowercased().hasPrefix("sqlite:") {
            self = try Self.sqlite(String(url.dropFirst("sqlite:".count)))
        } else if let scheme = ["postgres:", "postgresql:"].first(where: { url.lowercased().hasPrefix($0) }) {
            // `postgres:user:pw@host/db` (no `//`) is a mistyped URL, not a file to create; the
            // message does not repeat it (it may hold a password).
            throw InvalidURL(description: "a PostgreSQL URL starts with \(scheme)// (postgres://user:password@host:port/database)")
        } else {
            self = try Self.sqlite(url)
        }
    }

    private static func sqlite(_ path: String) throws(InvalidURL) -> DatabaseLocation {
        guard !path.isEmpty else { throw InvalidURL(description: "an SQLite database URL needs a file path (sqlite://herald.db)") }
        return .sqlite(path: path)
    }

    private static func postgres(_ url: String) throws(InvalidURL) -> PostgresAddress {
        let expected = "expected postgres://user:password@host:port/database"
        guard let c = URLComponents(string: url) else { throw InvalidURL(description: "invalid PostgreSQL URL (\(expected))") }
        guard let host = c.host, !host.isEmpty else { throw InvalidURL(description: "a PostgreSQL URL needs a host (\(expected))") }
        let port = c.port ?? 5432
        guard (1...65535).contains(port) else { throw InvalidURL(description: "the PostgreSQL port must be from 1 to 65535, not \(port)") }
        guard c.query == nil, c.fragment == nil else {
            throw InvalidURL(description: "a PostgreSQL URL takes no query parameters or fragment (\(expected))")
        }
        let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        guard !database.contains("/") else { throw InvalidURL(description: "invalid PostgreSQL database name \"\(database)\" (\(expected))") }
        let user = c.user ?? ""
        return PostgresAddress(host: host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host,
                               port: port, username: user.isEmpty ? "postgres" : user,
                               password: c.password, database: database.isEmpty ? nil : database)
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite://\(path)"
        case .postgres(let a): "postgres://\(a.username)@\(a.endpoint)/\(a.database ?? "")"
        }
    }
}
