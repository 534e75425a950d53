import Foundation
import HeraldCore
import Logging

/// Every store over one database, and the first-start bootstrap (API.md §2).
public struct Storage: Sendable {
    public let db: any SQLDatabase
    public var organizations: OrganizationStore { OrganizationStore(db: db) }
    public var contacts: ContactStore { ContactStore(db: db) }
    public var lists: ListStore { ListStore(db: db) }
    public var segments: SegmentStore { SegmentStore(db: db) }
    public var senders: SenderStore { SenderStore(db: db) }
    public var imports: ImportStore { ImportStore(db: db) }
    public var idempotency: IdempotencyStore { IdempotencyStore(db: db) }
    public var campaigns: CampaignStore { CampaignStore(db: db) }
    public var delivery: DeliveryStore { DeliveryStore(db: db) }

    public init(db: any SQLDatabase) { self.db = db }

    /// Opens the database named by `url`: `sqlite://path`, a bare path, or `postgres://…`
    /// (see `DatabaseLocation`; an unsupported scheme is an error, not a file name).
    public static func open(url: String, logger: Logger = Logger(label: "herald.db")) throws -> any SQLDatabase {
        try open(try DatabaseLocation(url: url), logger: logger)
    }

    /// Opens `location`: an SQLite file (created when missing) or a lazily connecting PostgreSQL
    /// pool (whose `run()` must run beside its use).
    public static func open(_ location: DatabaseLocation, logger: Logger = Logger(label: "herald.db")) throws -> any SQLDatabase {
        switch location {
        case .sqlite(let path): try SQLiteDatabase(path: path)
        case .postgres(let address): PostgresDatabase(address: address, logger: logger)
        }
    }

    /// What the first start created, for printing once.
    public struct Bootstrap: Sendable {
        public var organization: Organization
        public var apiKey: String
        public var sender: Sender
    }

    /// On an empty database: creates organization "Default", an admin key (the given one, or a
    /// generated one) and the default simulator sender `+12025550100`. Does nothing otherwise.
    public func bootstrapIfEmpty(apiKey: String?) async throws -> Bootstrap? {
        try await db.transaction { c -> Bootstrap? in
            let count = try await c.queryOne("SELECT COUNT(*) FROM organizations", [])?.int(0) ?? 0
            guard count == 0 else { return nil }
            let org = try await organizations.create(c, name: "Default", timezone: "America/New_York", defaultCountry: "US", billingMode: .unlimited)
            let scope = OrganizationScope(key: org.key, id: org.id)
            if let apiKey, let problem = OrganizationStore.chosenKeyProblem(apiKey) {
                throw ValidationError(field: "HERALD_BOOTSTRAP_API_KEY", message: problem)
            }
            let secret = apiKey ?? OrganizationStore.generateKey()
            let now = Clock.nowMillis()
            try await c.execute(
                "INSERT INTO api_keys (uuid, org_id, name, role, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [.text(IDs.make()), .int(org.key), .text("bootstrap admin"), .text(APIKeyRole.admin.rawValue),
                 .text(OrganizationStore.hash(apiKey: secret)), .text(String(secret.prefix(7))), .int(now)])
            let sender = try await senders.create(c, scope, SenderStore.Input(
                channel: .text, address: "+12025550100", type: .longCode, label: "Simulator", provider: "simulator", isDefault: true, maxPerSecond: 100))
            var o = org
            o.defaultSenderId = sender.id
            return Bootstrap(organization: o, apiKey: secret, sender: sender)
        }
    }
}
