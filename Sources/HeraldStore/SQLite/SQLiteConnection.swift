import CSQLite
import Foundation

private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection with a cache of prepared statements. Used by one task at a time (the
/// pool guarantees it), hence `@unchecked Sendable`.
public final class SQLiteConnection: SQLConnection, @unchecked Sendable {
    public let dialect: SQLDialect = .sqlite
    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating if needed) the database file at `path` in WAL mode.
    /// Shared with the other connections of its `SQLiteDatabase` (see `FilterPartCounts`).
    public let filterPartCounts: FilterPartCounts?

    public init(path: String, readOnly: Bool = false, filterPartCounts: FilterPartCounts? = nil) throws {
        self.filterPartCounts = filterPartCounts
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE))
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLError(kind: .connection, message: "cannot open SQLite database at \(path): \(message)")
        }
        db = handle
        sqlite3_busy_timeout(handle, 10_000)
        try SQLiteFunctions.register(handle)
        if !readOnly {
            try run("PRAGMA journal_mode=WAL")
        }
        try run("PRAGMA synchronous=NORMAL")
        try run("PRAGMA foreign_keys=ON")
        try run("PRAGMA temp_store=MEMORY")
        // A bounded page cache (16 MiB) and no memory map: with mmap, every page a bulk writer or
        // a scan touches stays resident, so peak RSS grew with the database file (3x from 100k to
        // 1M imported contacts). Pages beyond the cache come from the OS page cache instead.
        try run("PRAGMA cache_size=-16384")
        try run("PRAGMA mmap_size=0")
    }

    deinit {
        for (_, stmt) in statements { sqlite3_finalize(stmt) }
        if let db { sqlite3_close_v2(db) }
    }

    public func close() {
        for (_, stmt) in statements { sqlite3_finalize(stmt) }
        statements.removeAll()
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    // MARK: synchronous core

    /// Runs SQL text that may hold several statements and no parameters (migrations, pragmas).
    public func run(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(err)
            throw error(rc, message: message, sql: sql)
        }
    }

    private func error(_ rc: Int32, message: String? = nil, sql: String?) -> SQLError {
        var text = "SQLite error \(rc)"
        if let message {
            text = message
        } else if let db, let cText = sqlite3_errmsg(db) {
            text = String(cString: cText)
        }
        let kind: SQLError.Kind
        switch rc & 0xFF {
        case SQLITE_CONSTRAINT: kind = .constraint
        case SQLITE_BUSY, SQLITE_LOCKED: kind = .busy
        default: kind = .statement
        }
        return SQLError(kind: kind, message: text, sql: sql)
    }

    /// A cached prepared statement for `sql`.
    public func prepare(_ sql: String) throws -> OpaquePointer {
        if let stmt = statements[sql] { return stmt }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql: sql) }
        statements[sql] = stmt
        return stmt
    }

    @inline(__always)
    private func bind(_ stmt: OpaquePointer, _ binds: [SQLValue], sql: String) throws {
        for (index, value) in binds.enumerated() {
            let i = Int32(index + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(stmt, i)
            case .int(let v): rc = sqlite3_bind_int64(stmt, i, v)
            case .double(let d): rc = sqlite3_bind_double(stmt, i, d)
            case .text(let s):
                var s = s
                rc = s.withUTF8 { buf -> Int32 in
                    guard let base = buf.baseAddress else { return sqlite3_bind_text(stmt, i, "", 0, sqliteTransient) }
                    return UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: buf.count) {
                        sqlite3_bind_text(stmt, i, $0, Int32(buf.count), sqliteTransient)
                    }
                }
            case .blob(let b):
                rc = b.withUnsafeBytes { sqlite3_bind_blob(stmt, i, $0.baseAddress, Int32($0.count), sqliteTransient) }
            }
            if rc != SQLITE_OK { throw error(rc, sql: sql) }
        }
    }

    private func column(_ stmt: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(stmt, i) {
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(stmt, i))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(stmt, i))
        case SQLITE_TEXT:
            let n = Int(sqlite3_column_bytes(stmt, i))
            guard let p = sqlite3_column_text(stmt, i) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(stmt, i))
            guard let p = sqlite3_column_blob(stmt, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    /// Runs one statement synchronously and returns the changed-row count.
    @discardableResult
    public func executeSync(_ sql: String, _ binds: [SQLValue] = []) throws -> Int {
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt); sqlite3_clear_bindings(stmt) }
        try bind(stmt, binds, sql: sql)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            if rc == SQLITE_ROW { continue }
            throw error(rc, sql: sql)
        }
        return Int(sqlite3_changes(db))
    }

    /// Runs one query synchronously and returns every row.
    public func querySync(_ sql: String, _ binds: [SQLValue] = []) throws -> [SQLRow] {
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt); sqlite3_clear_bindings(stmt) }
        try bind(stmt, binds, sql: sql)
        var rows: [SQLRow] = []
        let count = sqlite3_column_count(stmt)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc, sql: sql) }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for i in 0..<count { values.append(column(stmt, i)) }
            rows.append(SQLRow(values))
        }
        return rows
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(db)) }

    /// A cached prepared statement for bulk paths that bind and step directly, without building
    /// `SQLValue` arrays. Valid until the connection closes; used by one task at a time.
    public func statement(_ sql: String) throws -> SQLiteStatement {
        SQLiteStatement(handle: try prepare(sql), connection: self, sql: sql)
    }

    func stepError(_ rc: Int32, sql: String) -> SQLError { error(rc, sql: sql) }

    // MARK: SQLConnection

    @discardableResult
    public func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
        try executeSync(sql, binds)
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try querySync(sql, binds)
    }

    public func executeMany(_ sql: String, _ rows: [[SQLValue]]) async throws {
        for row in rows { try executeSync(sql, row) }
    }
}

/// A prepared statement bound and stepped directly (see `SQLiteConnection.statement(_:)`).
/// Parameter indexes start at 1, column indexes at 0.
public struct SQLiteStatement {
    let handle: OpaquePointer
    let connection: SQLiteConnection
    let sql: String

    /// Binds text, or NULL for `nil`.
    @inline(__always)
    public func bind(_ index: Int32, _ value: String?) {
        guard var value else { sqlite3_bind_null(handle, index); return }
        value.withUTF8 { buf in
            guard let base = buf.baseAddress else { sqlite3_bind_text(handle, index, "", 0, sqliteTransient); return }
            _ = UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: buf.count) {
                sqlite3_bind_text(handle, index, $0, Int32(buf.count), sqliteTransient)
            }
        }
    }

    /// Binds an integer, or NULL for `nil`.
    @inline(__always)
    public func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Steps once: true when a row is available, false when done. Throws on error (the statement
    /// is reset then).
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let error = connection.stepError(rc, sql: sql)
        sqlite3_reset(handle)
        throw error
    }

    /// Column `index` of the current row as an integer, or `nil` when NULL.
    public func optionalInt(_ index: Int32) -> Int64? {
        sqlite3_column_type(handle, index) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, index)
    }

    /// Resets the statement for the next execution (bindings are kept until rebound).
    public func reset() { sqlite3_reset(handle) }
}
