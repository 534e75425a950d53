import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The scale-out engine: PostgreSQL through postgres-nio's pooled client. Its `run()` drives the
/// pool and belongs in the app's service group (or `withPostgres`).
public final class PostgresDatabase: SQLDatabase {
    public let dialect: SQLDialect = .postgres
    public let client: PostgresClient
    let logger: Logger

    /// The server and database this pool connects to.
    public let address: DatabaseLocation.PostgresAddress

    /// Connects lazily to `url` (`postgres://user:pass@host:port/db`).
    public convenience init(url: String, logger: Logger = Logger(label: "herald.postgres"), maxConnections: Int = 10) throws {
        guard case .postgres(let address) = try DatabaseLocation(url: url) else {
            throw SQLError(kind: .connection, message: "invalid PostgreSQL URL (expected postgres://user:password@host:port/database)")
        }
        self.init(address: address, logger: logger, maxConnections: maxConnections)
    }

    /// Connects lazily to `address`.
    public init(address: DatabaseLocation.PostgresAddress, logger: Logger = Logger(label: "herald.postgres"), maxConnections: Int = 10) {
        var config = PostgresClient.Configuration(
            host: address.host,
            port: address.port,
            username: address.username,
            password: address.password,
            database: address.database,
            tls: .disable
        )
        config.options.maximumConnections = maxConnections
        self.address = address
        self.client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.logger = logger
    }

    /// Drives the connection pool until cancelled.
    public func run() async {
        await client.run()
    }

    public func read<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await body(PostgresSQLConnection(connection: connection, logger: logger))
        }
    }

    @discardableResult
    public func transaction<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let c = PostgresSQLConnection(connection: connection, logger: logger)
            try await c.execute("BEGIN", [])
            do {
                let result = try await body(c)
                try await c.execute("COMMIT", [])
                return result
            } catch {
                _ = try? await c.execute("ROLLBACK", [])
                throw error
            }
        }
    }

    public func close() async {}
}

/// A leased PostgreSQL connection speaking the portable `?` placeholder SQL of the stores.
struct PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    /// Rewrites `?` placeholders (outside quoted literals) as `$1, $2, …`.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var inQuote = false
        for ch in sql {
            if ch == "'" { inQuote.toggle() }
            if ch == "?" && !inQuote {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }

    private func makeQuery(_ sql: String, _ binds: [SQLValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .int(let v): bindings.append(v)
            case .double(let d): bindings.append(d)
            case .text(let s): bindings.append(s)
            case .blob(let b): bindings.append(ByteBuffer(bytes: b))
            }
        }
        return PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings)
    }

    private func mapError(_ error: any Error, sql: String) -> any Error {
        if let e = error as? PSQLError {
            let state = e.serverInfo?[.sqlState] ?? ""
            let message = e.serverInfo?[.message] ?? "\(e.code)"
            let kind: SQLError.Kind
            if state.hasPrefix("23") { kind = .constraint }
            else if state == "40001" || state == "40P01" || state == "55P03" { kind = .busy }
            // Connection exceptions, insufficient resources, operator intervention (shutdown,
            // cancel), system errors: the statement may well succeed when run again.
            else if ["08", "53", "57", "58"].contains(String(state.prefix(2))) { kind = .connection }
            // Refused by the client before it reached the server: running it again cannot help.
            else if e.code == .tooManyParameters { kind = .statement }
            else if e.serverInfo == nil { kind = .connection }
            else { kind = .statement }
            return SQLError(kind: kind, message: "\(state) \(message)", sql: sql)
        }
        return error
    }

    private func run(_ sql: String, _ binds: [SQLValue]) async throws -> PostgresQueryResult {
        do {
            let future: EventLoopFuture<PostgresQueryResult> = connection.query(makeQuery(sql, binds), logger: logger)
            return try await future.get()
        } catch {
            throw mapError(error, sql: sql)
        }
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
        let result = try await run(sql, binds)
        return result.metadata.rows ?? result.rows.count
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let result = try await run(sql, binds)
        var rows: [SQLRow] = []
        rows.reserveCapacity(result.rows.count)
        for row in result.rows {
            var values: [SQLValue] = []
            for cell in row { values.append(try Self.value(of: cell)) }
            rows.append(SQLRow(values))
        }
        return rows
    }

    func executeMany(_ sql: String, _ rows: [[SQLValue]]) async throws {
        for row in rows { try await execute(sql, row) }
    }

    static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid:
            return .int(try cell.decode(Int64.self))
        case .float4, .float8:
            return .double(try cell.decode(Double.self))
        case .numeric:
            // NUMERIC (e.g. SUM of a BIGINT column) arrives in the binary format; as a String it
            // does not read back as its decimal text, so it is decoded as a Decimal.
            let number = NSDecimalNumber(decimal: try cell.decode(Decimal.self))
            let whole = number.int64Value
            return Decimal(whole) == number.decimalValue ? .int(whole) : .double(number.doubleValue)
        case .bool:
            return .int(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            var buffer = cell.bytes!
            return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        default:
            return .text(try cell.decode(String.self))
        }
    }
}
