import Crypto
import Foundation
import HeraldCore

/// Organizations, API keys and the credit ledger (API.md §2). All SQL for them lives here.
public struct OrganizationStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    private static let orgColumns = "id, uuid, name, timezone, default_country, default_sender_uuid, credit_balance, billing_mode, quiet_start, quiet_end, opt_out_confirmation, help_response, created_at"

    private static func organization(_ r: SQLRow) -> Organization {
        Organization(
            key: r.int(0), id: r.text(1), name: r.text(2), timezone: r.text(3), defaultCountry: r.text(4),
            defaultSenderId: r.optionalText(5), creditBalance: r.int(6),
            billingMode: Organization.BillingMode(rawValue: r.text(7)) ?? .credits,
            quietHoursStart: r.text(8), quietHoursEnd: r.text(9), optOutConfirmation: r.text(10),
            helpResponse: r.text(11), createdAt: r.int(12)
        )
    }

    /// Creates an organization with the defaults of API.md §2.
    public func create(name: String, timezone: String = "America/New_York", defaultCountry: String = "US",
                       billingMode: Organization.BillingMode = .unlimited) async throws -> Organization {
        try await db.transaction { c in try await create(c, name: name, timezone: timezone, defaultCountry: defaultCountry, billingMode: billingMode) }
    }

    func create(_ c: any SQLConnection, name: String, timezone: String, defaultCountry: String, billingMode: Organization.BillingMode) async throws -> Organization {
        let now = Clock.nowMillis()
        let uuid = IDs.make()
        let rows = try await c.query("""
            INSERT INTO organizations (uuid, name, timezone, default_country, credit_balance, billing_mode, quiet_start, quiet_end, opt_out_confirmation, help_response, created_at, updated_at)
            VALUES (?, ?, ?, ?, 0, ?, '08:00', '21:00', ?, ?, ?, ?) RETURNING \(Self.orgColumns)
            """, [.text(uuid), .text(name), .text(timezone), .text(defaultCountry), .text(billingMode.rawValue),
                  .text(Organization.defaultOptOutConfirmation), .text(Organization.defaultHelpResponse), .int(now), .int(now)])
        return Self.organization(rows[0])
    }

    public func count() async throws -> Int64 {
        try await db.read { c in try await c.queryOne("SELECT COUNT(*) FROM organizations", [])?.int(0) ?? 0 }
    }

    public func get(_ scope: OrganizationScope) async throws -> Organization {
        try await db.read { c in
            guard let row = try await c.queryOne("SELECT \(Self.orgColumns) FROM organizations WHERE id = ?", [.int(scope.key)]) else {
                throw StoreError.notFound("organization")
            }
            return Self.organization(row)
        }
    }

    public func find(id: String) async throws -> Organization? {
        guard IDs.isUUID(id) else { return nil }
        return try await db.read { c in
            try await c.queryOne("SELECT \(Self.orgColumns) FROM organizations WHERE uuid = ?", [.text(id.lowercased())]).map(Self.organization)
        }
    }

    /// The settings of `PATCH /api/organization`; nil leaves a field as it is.
    public struct Settings: Sendable {
        public var name: String?
        public var timezone: String?
        public var defaultCountry: String?
        public var defaultSenderId: FieldUpdate<String> = .unchanged
        public var billingMode: Organization.BillingMode?
        public var quietHoursStart: String?
        public var quietHoursEnd: String?
        public var optOutConfirmation: String?
        public var helpResponse: String?
        public init() {}
    }

    public func update(_ scope: OrganizationScope, _ s: Settings) async throws -> Organization {
        try await db.transaction { c in
            var sets: [String] = []
            var binds: [SQLValue] = []
            func set(_ column: String, _ value: SQLValue) { sets.append("\(column) = ?"); binds.append(value) }
            if let v = s.name { set("name", .text(v)) }
            if let v = s.timezone { set("timezone", .text(v)) }
            if let v = s.defaultCountry { set("default_country", .text(v)) }
            // The default sender is also its channel's `is_default` sender, the one campaigns
            // without a `senderId` send from (`SenderStore.defaultSender`): both change together.
            switch s.defaultSenderId {
            case .unchanged: break
            case .clear:
                set("default_sender_uuid", .null)
                try await c.execute("UPDATE senders SET is_default = 0 WHERE org_id = ? AND channel = 'text'", [.int(scope.key)])
            case .set(let v):
                set("default_sender_uuid", .text(v.lowercased()))
                try await c.execute("""
                    UPDATE senders SET is_default = CASE WHEN uuid = ? THEN 1 ELSE 0 END
                    WHERE org_id = ? AND channel = (SELECT s.channel FROM senders s WHERE s.org_id = ? AND s.uuid = ?)
                    """, [.text(v.lowercased()), .int(scope.key), .int(scope.key), .text(v.lowercased())])
            }
            if let v = s.billingMode { set("billing_mode", .text(v.rawValue)) }
            if let v = s.quietHoursStart { set("quiet_start", .text(v)) }
            if let v = s.quietHoursEnd { set("quiet_end", .text(v)) }
            if let v = s.optOutConfirmation { set("opt_out_confirmation", .text(v)) }
            if let v = s.helpResponse { set("help_response", .text(v)) }
            set("updated_at", .int(Clock.nowMillis()))
            binds.append(.int(scope.key))
            try await c.execute("UPDATE organizations SET \(sets.joined(separator: ", ")) WHERE id = ?", binds)
            guard let row = try await c.queryOne("SELECT \(Self.orgColumns) FROM organizations WHERE id = ?", [.int(scope.key)]) else {
                throw StoreError.notFound("organization")
            }
            return Self.organization(row)
        }
    }

    // MARK: credits

    /// Adds (or, when negative, removes) credits and writes a ledger entry; returns the new
    /// balance. With a `floor`, a change that would take the balance below it changes nothing
    /// and returns nil: the test and the change are one statement, so removals running side by
    /// side cannot overdraw the balance between a check and a write.
    @discardableResult
    public func addCredits(_ scope: OrganizationScope, amount: Int64, reason: String, campaignId: String? = nil, floor: Int64? = nil) async throws -> Int64? {
        try await db.transaction { c in
            let guardSQL = floor == nil ? "" : " AND credit_balance + ? >= ?"
            let guardBinds: [SQLValue] = floor.map { [.int(amount), .int($0)] } ?? []
            guard let row = try await c.queryOne("UPDATE organizations SET credit_balance = credit_balance + ? WHERE id = ?\(guardSQL) RETURNING credit_balance",
                                                 [.int(amount), .int(scope.key)] + guardBinds) else {
                if floor != nil, try await c.queryOne("SELECT 1 FROM organizations WHERE id = ?", [.int(scope.key)]) != nil { return nil }
                throw StoreError.notFound("organization")
            }
            let balance = row.int(0)
            try await c.execute(
                "INSERT INTO credit_ledger (uuid, org_id, amount, balance_after, reason, campaign_uuid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [.text(IDs.make()), .int(scope.key), .int(amount), .int(balance), .text(reason), .optional(campaignId), .int(Clock.nowMillis())])
            return balance
        }
    }

    /// Ledger entries newest first, keyset-paginated on the entry key.
    public func ledger(_ scope: OrganizationScope, before: Int64?, limit: Int) async throws -> [CreditLedgerEntry] {
        try await db.read { c in
            let rows = try await c.query("""
                SELECT id, uuid, amount, balance_after, reason, campaign_uuid, created_at FROM credit_ledger
                WHERE org_id = ? AND id < ? ORDER BY id DESC LIMIT ?
                """, [.int(scope.key), .int(before ?? Int64.max), .int(Int64(limit))])
            return rows.map { r in
                CreditLedgerEntry(key: r.int(0), id: r.text(1), amount: r.int(2), balanceAfter: r.int(3), reason: r.text(4), campaignId: r.optionalText(5), createdAt: r.int(6))
            }
        }
    }

    // MARK: API keys

    /// SHA-256 of a key, hex: keys are 190+ bits of randomness, so a fast hash is safe to store.
    public static func hash(apiKey: String) -> String {
        SHA256.hash(data: Data(apiKey.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A new secret key: `hk_` and 40 base62 characters from the system's secure generator.
    public static func generateKey() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var rng = SystemRandomNumberGenerator()
        return "hk_" + String((0..<40).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }

    private static let keyColumns = "k.id, k.uuid, o.id, o.uuid, k.name, k.role, k.key_prefix, k.created_at, k.revoked_at"

    private static func apiKey(_ r: SQLRow) -> APIKey {
        APIKey(key: r.int(0), id: r.text(1), organization: OrganizationScope(key: r.int(2), id: r.text(3)), name: r.text(4),
               role: APIKeyRole(rawValue: r.text(5)) ?? .read, prefix: r.text(6), createdAt: r.int(7), revokedAt: r.optionalInt(8))
    }

    /// Stores a key (the given secret, or a new one) and returns the record and the secret.
    /// Why an operator-chosen API key (`HERALD_BOOTSTRAP_API_KEY`) is unusable, or nil: it must
    /// be as hard to guess as a generated one, and its first 7 characters are kept in the clear
    /// as its visible `prefix`, so a short key would be shown whole.
    public static func chosenKeyProblem(_ secret: String) -> String? {
        guard secret.count >= 32 else { return "must be at least 32 characters (a generated key has 43)" }
        guard secret.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            return "may only hold ASCII letters, digits, '_' and '-'"
        }
        return nil
    }

    public func createKey(_ scope: OrganizationScope, name: String, role: APIKeyRole, secret: String? = nil) async throws -> (APIKey, String) {
        let secret = secret ?? Self.generateKey()
        let now = Clock.nowMillis()
        let uuid = IDs.make()
        return try await db.transaction { c in
            do {
                try await c.execute(
                    "INSERT INTO api_keys (uuid, org_id, name, role, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [.text(uuid), .int(scope.key), .text(name), .text(role.rawValue), .text(Self.hash(apiKey: secret)), .text(String(secret.prefix(7))), .int(now)])
            } catch let e as SQLError where e.isUniqueViolation {
                throw StoreError.conflict(field: "key", message: "this key is already registered")
            }
            guard let row = try await c.queryOne("SELECT \(Self.keyColumns) FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE k.uuid = ?", [.text(uuid)]) else {
                throw StoreError.notFound("api key")
            }
            return (Self.apiKey(row), secret)
        }
    }

    /// The live key whose secret is `secret`, if any.
    public func authenticate(secret: String) async throws -> APIKey? {
        try await db.read { c in
            try await c.queryOne("SELECT \(Self.keyColumns) FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE k.key_hash = ? AND k.revoked_at IS NULL",
                                 [.text(Self.hash(apiKey: secret))]).map(Self.apiKey)
        }
    }

    /// The organization's live keys, newest first, `limit` at a time, after the key `before`.
    public func listKeys(_ scope: OrganizationScope, before: Int64? = nil, limit: Int = 200) async throws -> [APIKey] {
        try await db.read { c in
            try await c.query("""
                SELECT \(Self.keyColumns) FROM api_keys k JOIN organizations o ON o.id = k.org_id
                WHERE k.org_id = ? AND k.revoked_at IS NULL AND k.id < ? ORDER BY k.id DESC LIMIT ?
                """, [.int(scope.key), .int(before ?? Int64.max), .int(Int64(limit))]).map(Self.apiKey)
        }
    }

    /// Revokes a key of this organization; a key of another organization is `notFound`.
    public func revokeKey(_ scope: OrganizationScope, id: String) async throws {
        guard IDs.isUUID(id) else { throw StoreError.notFound("api key") }
        let changed = try await db.transaction { c in
            try await c.execute("UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND uuid = ? AND revoked_at IS NULL",
                                [.int(Clock.nowMillis()), .int(scope.key), .text(id.lowercased())])
        }
        if changed == 0 { throw StoreError.notFound("api key") }
    }
}
