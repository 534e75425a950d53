/// One forward-only schema change. `sql` is written once with a few dialect placeholders:
/// `{{pk}}` is the auto-incrementing 64-bit key column and `{{blob}}` the binary type.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var sql: String
    /// Statements for one engine only, run after those of `sql`, each executed whole: they may
    /// contain `;` (trigger bodies, PostgreSQL `DO` blocks and functions).
    public var dialectStatements: [SQLDialect: [String]] = [:]

    func statements(for dialect: SQLDialect) -> [String] {
        let text = sql
            .replacingOccurrences(of: "{{pk}}", with: dialect.serialPrimaryKey)
            .replacingOccurrences(of: "{{blob}}", with: dialect == .postgres ? "BYTEA" : "BLOB")
        return text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            + (dialectStatements[dialect] ?? [])
    }
}

import Foundation

/// Applies pending migrations in order, each in its own transaction, and records them in
/// `schema_migrations`. Running it twice does nothing the second time.
public struct Migrator: Sendable {
    public let database: any SQLDatabase
    public let migrations: [Migration]

    public init(database: any SQLDatabase, migrations: [Migration] = Schema.migrations) {
        self.database = database
        self.migrations = migrations
    }

    /// Applies what is pending; returns the versions applied now.
    @discardableResult
    public func migrate() async throws -> [Int] {
        _ = try await database.transaction { c in
            try await c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)", [])
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            let did = try await database.transaction { c -> Bool in
                if c.dialect == .postgres {
                    // Serialize concurrent migrators (several processes starting at once).
                    try await c.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE", [])
                }
                let exists = try await c.queryOne("SELECT 1 FROM schema_migrations WHERE version = ?", [.int(Int64(migration.version))])
                if exists != nil { return false }
                for statement in migration.statements(for: c.dialect) {
                    try await c.execute(statement, [])
                }
                try await c.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.int(Int64(migration.version)), .text(migration.name), .int(Clock.nowMillis())]
                )
                return true
            }
            if did { applied.append(migration.version) }
        }
        return applied
    }

    /// The highest applied version, or 0.
    public func currentVersion() async throws -> Int {
        try await database.read { c in
            let row = try await c.queryOne("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [])
            return Int(row?.int(0) ?? 0)
        }
    }

    public var latestVersion: Int { migrations.map(\.version).max() ?? 0 }
}

/// Wall-clock milliseconds since 1970, the unit of every stored instant.
public enum Clock {
    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
