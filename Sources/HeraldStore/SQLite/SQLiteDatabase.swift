import Foundation

/// The embedded default engine: one SQLite file in WAL mode, one writer connection and a few
/// readers (WAL lets reads run beside the writer).
public final class SQLiteDatabase: SQLDatabase {
    public let dialect: SQLDialect = .sqlite
    public let path: String
    private let writer: ConnectionPool<SQLiteConnection>
    private let readers: ConnectionPool<SQLiteConnection>

    public init(path: String, readers readerCount: Int = 4) throws {
        self.path = path
        let counts = FilterPartCounts()
        let writerConnection = try SQLiteConnection(path: path, filterPartCounts: counts)
        self.writer = ConnectionPool([writerConnection])
        var readerConnections: [SQLiteConnection] = []
        for _ in 0..<max(1, readerCount) {
            readerConnections.append(try SQLiteConnection(path: path, filterPartCounts: counts))
        }
        self.readers = ConnectionPool(readerConnections)
    }

    public func read<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        let connection = await readers.acquire()
        do {
            let result = try await body(connection)
            await readers.release(connection)
            return result
        } catch {
            await readers.release(connection)
            throw error
        }
    }

    @discardableResult
    public func transaction<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await withWriter { connection in
            try connection.run("BEGIN IMMEDIATE")
            do {
                let result = try await body(connection)
                try connection.run("COMMIT")
                return result
            } catch {
                try? connection.run("ROLLBACK")
                throw error
            }
        }
    }

    /// Lends the single writer connection outside any transaction (bulk jobs manage their own).
    public func withWriter<T: Sendable>(_ body: (SQLiteConnection) async throws -> T) async throws -> T {
        let connection = await writer.acquire()
        do {
            let result = try await body(connection)
            await writer.release(connection)
            return result
        } catch {
            await writer.release(connection)
            throw error
        }
    }

    public func close() async {
        for c in await writer.drain() { c.close() }
        for c in await readers.drain() { c.close() }
    }
}
