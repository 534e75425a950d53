import Foundation
import HeraldStore
import Logging

/// The engines every storage-touching test runs on. SQLite always; PostgreSQL when
/// `HERALD_TEST_POSTGRES_URL` names a server (the test script always sets it, and sets
/// `HERALD_REQUIRE_POSTGRES=1` so that a missing server fails instead of skipping).
public enum TestEngine: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// The admin URL of the test PostgreSQL server, if configured.
    public static var postgresURL: String? {
        let url = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"]
        return (url?.isEmpty ?? true) ? nil : url
    }

    /// Engines to run on: PostgreSQL only when configured (a printed reason otherwise).
    public static var available: [TestEngine] {
        if postgresURL != nil { return [.sqlite, .postgres] }
        if ProcessInfo.processInfo.environment["HERALD_REQUIRE_POSTGRES"] == "1" {
            // Keep .postgres so the test fails loudly in withTestStorage.
            return [.sqlite, .postgres]
        }
        printSkipReasonOnce()
        return [.sqlite]
    }

    private static let skipNotice: Void = {
        print("note: PostgreSQL tests skipped: HERALD_TEST_POSTGRES_URL is not set (scripts/test.sh sets it up)")
    }()

    static func printSkipReasonOnce() { _ = skipNotice }
}

public struct TestDatabaseError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs `body` with a fresh, migrated database of `engine`, then removes it.
public func withTestStorage<T: Sendable>(_ engine: TestEngine, _ body: @escaping @Sendable (Storage) async throws -> T) async throws -> T {
    let logger = Logger(label: "herald.test")
    switch engine {
    case .sqlite:
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteDatabase(path: dir.appendingPathComponent("test.db").path)
        try await Migrator(database: db).migrate()
        do {
            let result = try await body(Storage(db: db))
            await db.close()
            return result
        } catch {
            await db.close()
            throw error
        }
    case .postgres:
        guard let adminURL = TestEngine.postgresURL else {
            throw TestDatabaseError(description: "HERALD_REQUIRE_POSTGRES=1 but HERALD_TEST_POSTGRES_URL is not set")
        }
        // Each database holds up to 5 server connections (admin + pool) for as long as its
        // test runs; unbounded, the tests running side by side exhaust the server's
        // max_connections and then wait on each other forever.
        let slot = await postgresTestDatabases.acquire()
        do {
            let value = try await withScratchPostgres(adminURL: adminURL, logger: logger, body)
            await postgresTestDatabases.release(slot)
            return value
        } catch {
            await postgresTestDatabases.release(slot)
            throw error
        }
    }
}

/// How many PostgreSQL test databases may be in use at once, served in arrival order: 16 (at
/// most 80 connections, well under the 300 of `scripts/postgres.sh`) unless
/// `HERALD_TEST_POSTGRES_DATABASES` says otherwise.
private let postgresTestDatabases = ConnectionPool(Array(0..<(ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_DATABASES"]
    .flatMap(Int.init).map { max(1, $0) } ?? 16)))

/// Creates a scratch database beside `adminURL`, runs `body` on it migrated, then drops it.
private func withScratchPostgres<T: Sendable>(adminURL: String, logger: Logger,
                                              _ body: @escaping @Sendable (Storage) async throws -> T) async throws -> T {
    let name = "herald_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    let admin = try PostgresDatabase(url: adminURL, logger: logger, maxConnections: 1)
    var components = URLComponents(string: adminURL)!
    components.path = "/\(name)"
    let url = components.string!
    return try await withPool(admin) {
        _ = try await admin.read { try await $0.execute("CREATE DATABASE \(name)", []) }
        let result: Result<T, any Error>
        do {
            let db = try PostgresDatabase(url: url, logger: logger, maxConnections: 4)
            let value = try await withPool(db) {
                try await Migrator(database: db).migrate()
                return try await body(Storage(db: db))
            }
            result = .success(value)
        } catch {
            result = .failure(error)
        }
        _ = try? await admin.read { try await $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) }
        return try result.get()
    }
}

/// Runs `body` while the PostgreSQL pool runs beside it.
public func withPool<T: Sendable>(_ db: PostgresDatabase, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await db.run(); return nil }
        group.addTask { try await body() }
        while let result = try await group.next() {
            if let value = result {
                group.cancelAll()
                return value
            }
        }
        throw CancellationError()
    }
}
