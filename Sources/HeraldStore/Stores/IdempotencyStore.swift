import HeraldCore

/// Stored responses of POSTs sent with an `Idempotency-Key` (API.md §1), kept 24 hours.
public struct IdempotencyStore: Sendable {
    let db: any SQLDatabase
    public static let retentionMillis: Int64 = 24 * 3600 * 1000

    public init(db: any SQLDatabase) { self.db = db }

    public enum Claim: Sendable {
        /// First use of the key: the caller runs the request and then calls `complete`.
        case claimed
        /// Same key and same body: replay this response.
        case replay(status: Int, contentType: String?, body: [UInt8])
        /// Same key, same body, first request still running.
        case inProgress
        /// Same key, another body: 409.
        case mismatch
    }

    public func claim(_ scope: OrganizationScope, apiKey: Int64, key: String, requestHash: String) async throws -> Claim {
        try await db.transaction { c in
            let now = Clock.nowMillis()
            try await c.execute("DELETE FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ? AND created_at < ?",
                                [.int(apiKey), .text(key), .int(now - Self.retentionMillis)])
            func existing() async throws -> Claim? {
                guard let row = try await c.queryOne("SELECT request_hash, status_code, content_type, response_body FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ?",
                                                     [.int(apiKey), .text(key)]) else { return nil }
                if row.text(0) != requestHash { return .mismatch }
                guard let status = row.optionalInt(1) else { return .inProgress }
                let body: [UInt8]
                if case .blob(let b) = row[3] { body = b } else { body = Array(row.text(3).utf8) }
                return .replay(status: Int(status), contentType: row.optionalText(2), body: body)
            }
            if let claim = try await existing() { return claim }
            // Requests with one key racing each other (PostgreSQL, several connections): one
            // inserts, the others find its row once it is committed and get what it says.
            let inserted = try await c.execute("""
                INSERT INTO idempotency_keys (org_id, api_key_id, idem_key, request_hash, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, [.int(scope.key), .int(apiKey), .text(key), .text(requestHash), .int(now)])
            if inserted == 1 { return .claimed }
            return try await existing() ?? .inProgress
        }
    }

    public func complete(apiKey: Int64, key: String, status: Int, contentType: String?, body: [UInt8]) async throws {
        try await db.transaction { c in
            try await c.execute("UPDATE idempotency_keys SET status_code = ?, content_type = ?, response_body = ? WHERE api_key_id = ? AND idem_key = ?",
                                [.int(Int64(status)), .optional(contentType), .blob(body), .int(apiKey), .text(key)])
        }
    }

    /// Deletes every kept response older than `retentionMillis` (all organizations: the rows
    /// have expired, nothing is read). Returns how many.
    public func deleteExpired(now: Int64 = Clock.nowMillis()) async throws -> Int {
        try await db.transaction { c in
            try await c.execute("DELETE FROM idempotency_keys WHERE created_at < ?", [.int(now - Self.retentionMillis)])
        }
    }

    /// Forgets a claim whose request failed with a server error, so a retry can run again.
    public func release(apiKey: Int64, key: String) async throws {
        try await db.transaction { c in
            try await c.execute("DELETE FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ? AND status_code IS NULL", [.int(apiKey), .text(key)])
        }
    }
}
