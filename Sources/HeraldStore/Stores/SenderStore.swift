import HeraldCore

/// Senders (API.md §4). All SQL for them lives here.
public struct SenderStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    private static let columns = "id, uuid, channel, address, type, label, provider, is_default, max_per_second, created_at, updated_at"

    private static func sender(_ r: SQLRow) -> Sender {
        Sender(key: r.int(0), id: r.text(1), channel: Channel(rawValue: r.text(2)) ?? .text, address: r.text(3),
               type: SenderType(rawValue: r.text(4)) ?? .longCode, label: r.optionalText(5), provider: r.text(6),
               isDefault: r.bool(7), maxPerSecond: r.double(8), createdAt: r.int(9), updatedAt: r.int(10))
    }

    public struct Input: Sendable {
        public var channel: Channel
        public var address: String
        public var type: SenderType
        public var label: String?
        public var provider: String
        public var isDefault: Bool
        public var maxPerSecond: Double

        public init(channel: Channel, address: String, type: SenderType, label: String?, provider: String, isDefault: Bool, maxPerSecond: Double) {
            self.channel = channel
            self.address = address
            self.type = type
            self.label = label
            self.provider = provider
            self.isDefault = isDefault
            self.maxPerSecond = maxPerSecond
        }
    }

    public func create(_ scope: OrganizationScope, _ input: Input) async throws -> Sender {
        try await db.transaction { c in try await create(c, scope, input) }
    }

    func create(_ c: any SQLConnection, _ scope: OrganizationScope, _ input: Input) async throws -> Sender {
        let now = Clock.nowMillis()
        let uuid = IDs.make()
        var input = input
        // A channel that has senders always has one default (the one campaigns without a
        // `senderId` send from): its first sender is the default whatever the request said.
        let others = try await c.queryOne("SELECT COUNT(*) FROM senders WHERE org_id = ? AND channel = ?", [.int(scope.key), .text(input.channel.rawValue)])?.int(0) ?? 0
        if others == 0 { input.isDefault = true }
        if input.isDefault {
            try await c.execute("UPDATE senders SET is_default = 0 WHERE org_id = ? AND channel = ?", [.int(scope.key), .text(input.channel.rawValue)])
        }
        do {
            try await c.execute("""
                INSERT INTO senders (uuid, org_id, channel, address, type, label, provider, is_default, max_per_second, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(uuid), .int(scope.key), .text(input.channel.rawValue), .text(input.address), .text(input.type.rawValue),
                      .optional(input.label), .text(input.provider), .bool(input.isDefault), .double(input.maxPerSecond), .int(now), .int(now)])
        } catch let e as SQLError where e.isUniqueViolation {
            throw StoreError.conflict(field: "address", message: "a sender with this channel and address already exists")
        }
        if input.isDefault && input.channel == .text {
            try await c.execute("UPDATE organizations SET default_sender_uuid = ? WHERE id = ?", [.text(uuid), .int(scope.key)])
        }
        return try await load(c, scope, id: uuid)
    }

    func load(_ c: any SQLConnection, _ scope: OrganizationScope, id: String) async throws -> Sender {
        guard IDs.isUUID(id), let row = try await c.queryOne("SELECT \(Self.columns) FROM senders WHERE org_id = ? AND uuid = ?", [.int(scope.key), .text(id.lowercased())]) else {
            throw StoreError.notFound("sender")
        }
        return Self.sender(row)
    }

    public func get(_ scope: OrganizationScope, id: String) async throws -> Sender {
        try await db.read { c in try await load(c, scope, id: id) }
    }

    public func all(_ scope: OrganizationScope, before: Int64?, limit: Int) async throws -> [Sender] {
        try await db.read { c in
            try await c.query("SELECT \(Self.columns) FROM senders WHERE org_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                              [.int(scope.key), .int(before ?? Int64.max), .int(Int64(limit))]).map(Self.sender)
        }
    }

    /// The default sender of a channel, if any.
    public func defaultSender(_ scope: OrganizationScope, channel: Channel) async throws -> Sender? {
        try await db.read { c in
            try await c.queryOne("SELECT \(Self.columns) FROM senders WHERE org_id = ? AND channel = ? ORDER BY is_default DESC, id ASC LIMIT 1",
                                 [.int(scope.key), .text(channel.rawValue)]).map(Self.sender)
        }
    }

    public struct Changes: Sendable {
        public var address: String?
        public var type: SenderType?
        public var label: FieldUpdate<String> = .unchanged
        public var provider: String?
        public var isDefault: Bool?
        public var maxPerSecond: Double?
        public init() {}
    }

    public func update(_ scope: OrganizationScope, id: String, _ ch: Changes) async throws -> Sender {
        try await db.transaction { c in
            let current = try await load(c, scope, id: id)
            var sets = ["updated_at = ?"]
            var binds: [SQLValue] = [.int(Clock.nowMillis())]
            if let v = ch.address { sets.append("address = ?"); binds.append(.text(v)) }
            if let v = ch.type { sets.append("type = ?"); binds.append(.text(v.rawValue)) }
            switch ch.label {
            case .unchanged: break
            case .clear: sets.append("label = NULL")
            case .set(let v): sets.append("label = ?"); binds.append(.text(v))
            }
            if let v = ch.provider { sets.append("provider = ?"); binds.append(.text(v)) }
            if let v = ch.maxPerSecond { sets.append("max_per_second = ?"); binds.append(.double(v)) }
            if let v = ch.isDefault {
                if !v && current.isDefault {
                    throw ValidationError(field: "isDefault", message: "this is the \(current.channel.rawValue) channel's default sender; make another sender of the channel the default instead")
                }
                if v {
                    try await c.execute("UPDATE senders SET is_default = 0 WHERE org_id = ? AND channel = ?", [.int(scope.key), .text(current.channel.rawValue)])
                    if current.channel == .text {
                        try await c.execute("UPDATE organizations SET default_sender_uuid = ? WHERE id = ?", [.text(current.id), .int(scope.key)])
                    }
                }
                sets.append("is_default = ?")
                binds.append(.bool(v))
            }
            do {
                try await c.execute("UPDATE senders SET \(sets.joined(separator: ", ")) WHERE org_id = ? AND id = ?", binds + [.int(scope.key), .int(current.key)])
            } catch let e as SQLError where e.isUniqueViolation {
                throw StoreError.conflict(field: "address", message: "a sender with this channel and address already exists")
            }
            return try await load(c, scope, id: id)
        }
    }

    /// Deletes the sender unless a scheduled or running campaign uses it: names it, or sends
    /// with the organization's default for the sender's channel and no other sender of that
    /// channel is left (400 `invalid_state`, as for segments).
    public func delete(_ scope: OrganizationScope, id: String) async throws {
        try await db.transaction { c in
            let current = try await load(c, scope, id: id)
            let inUse = try await c.queryOne("""
                SELECT COUNT(*) FROM campaigns k
                WHERE k.org_id = ? AND k.status IN ('scheduled', 'pending', 'queued', 'sending', 'paused')
                  AND (k.sender_uuid = ? OR (k.sender_uuid IS NULL AND k.channel = ?
                       AND NOT EXISTS (SELECT 1 FROM senders s WHERE s.org_id = ? AND s.channel = ? AND s.id <> ?)))
                """, [.int(scope.key), .text(current.id), .text(current.channel.rawValue), .int(scope.key), .text(current.channel.rawValue), .int(current.key)])?.int(0) ?? 0
            if inUse > 0 {
                throw StoreError.invalidState("\(inUse == 1 ? "a scheduled or running campaign uses" : "\(inUse) scheduled or running campaigns use") this sender")
            }
            try await c.execute("DELETE FROM senders WHERE org_id = ? AND id = ?", [.int(scope.key), .int(current.key)])
            guard current.isDefault else { return }
            // The channel's next sender (the oldest) becomes its default, as campaigns without a
            // `senderId` would pick it; for text the organization's `defaultSenderId` follows.
            let next = try await c.queryOne("SELECT uuid FROM senders WHERE org_id = ? AND channel = ? ORDER BY id ASC LIMIT 1",
                                            [.int(scope.key), .text(current.channel.rawValue)])?.text(0)
            if let next {
                try await c.execute("UPDATE senders SET is_default = 1 WHERE org_id = ? AND uuid = ?", [.int(scope.key), .text(next)])
            }
            if current.channel == .text {
                try await c.execute("UPDATE organizations SET default_sender_uuid = ? WHERE id = ?", [.optional(next), .int(scope.key)])
            }
        }
    }
}
