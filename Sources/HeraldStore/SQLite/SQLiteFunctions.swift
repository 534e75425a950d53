import CSQLite
import HeraldCore

/// The SQL functions Herald adds to every SQLite connection, so that the contact filters mean
/// on SQLite what they mean on PostgreSQL:
///
/// - `herald_fold(text)`: `TextFolding.fold`, the case folding of case-insensitive comparisons
///   (SQLite's own `LOWER`, `UPPER` and `LIKE` fold only ASCII letters).
/// - `herald_number(text)`: `CustomFieldNumber.value`, a custom field's text as a number for
///   ordering conditions, NULL when it is not one (`CAST(… AS REAL)` reads the leading digits
///   of anything, `2024-01-02` as 2024).
///
/// Both are deterministic, so the planner may evaluate them once per row and value.
enum SQLiteFunctions {
    static func register(_ db: OpaquePointer) throws {
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS
        for (name, function) in [("herald_fold", fold), ("herald_number", number)] as [(String, SQLiteScalarFunction)] {
            guard sqlite3_create_function_v2(db, name, 1, flags, nil, function, nil, nil, nil) == SQLITE_OK else {
                throw SQLError(kind: .connection, message: "cannot register the SQL function \(name): \(String(cString: sqlite3_errmsg(db)))")
            }
        }
    }

    typealias SQLiteScalarFunction = @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void

    /// Runs per row in scans and searches, so ASCII text (nearly every name and e-mail) takes a
    /// path with no Swift allocation: returned as it is when it has no capital, else lowered
    /// into a buffer SQLite owns.
    static let fold: SQLiteScalarFunction = { context, _, args in
        guard let value = args?[0], sqlite3_value_type(value) != SQLITE_NULL, let bytes = sqlite3_value_text(value) else {
            return sqlite3_result_null(context)
        }
        let count = Int(sqlite3_value_bytes(value))
        var ascii = true, capitals = false
        for i in 0..<count {
            let b = bytes[i]
            if b >= 0x80 { ascii = false; break }
            if b &- 0x41 < 26 { capitals = true }
        }
        if ascii {
            guard capitals else { return sqlite3_result_value(context, value) }
            guard let out = sqlite3_malloc64(UInt64(count))?.assumingMemoryBound(to: UInt8.self) else { return sqlite3_result_error_nomem(context) }
            for i in 0..<count {
                let b = bytes[i]
                out[i] = b &- 0x41 < 26 ? b + 32 : b
            }
            return sqlite3_result_text64(context, UnsafeRawPointer(out).assumingMemoryBound(to: CChar.self), UInt64(count), sqlite3_free, UInt8(SQLITE_UTF8))
        }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        TextFolding.fold(utf8: UnsafeBufferPointer(start: bytes, count: count), into: &out)
        out.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { sqlite3_result_text(context, $0.baseAddress, Int32($0.count), unsafeBitCast(-1, to: sqlite3_destructor_type.self)) }
        }
    }

    static let number: SQLiteScalarFunction = { context, _, args in
        guard let arg = args?[0], sqlite3_value_type(arg) != SQLITE_NULL, let bytes = sqlite3_value_text(arg),
              let value = CustomFieldNumber.value(String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_value_bytes(arg))), as: UTF8.self)) else {
            return sqlite3_result_null(context)
        }
        sqlite3_result_double(context, value)
    }
}
