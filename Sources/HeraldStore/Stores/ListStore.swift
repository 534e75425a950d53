import HeraldCore

/// Lists and their members (API.md §3). All SQL for them lives here.
public struct ListStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    private static let columns = "l.id, l.uuid, l.name, l.description, (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id), l.created_at, l.updated_at"

    private static func list(_ r: SQLRow) -> ContactList {
        ContactList(key: r.int(0), id: r.text(1), name: r.text(2), description: r.optionalText(3), contactCount: r.int(4), createdAt: r.int(5), updatedAt: r.int(6))
    }

    public func create(_ scope: OrganizationScope, name: String, description: String?) async throws -> ContactList {
        try await db.transaction { c in
            let now = Clock.nowMillis()
            let uuid = IDs.make()
            try await c.execute("INSERT INTO lists (uuid, org_id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                                [.text(uuid), .int(scope.key), .text(name), .optional(description), .int(now), .int(now)])
            return try await load(c, scope, id: uuid)
        }
    }

    func load(_ c: any SQLConnection, _ scope: OrganizationScope, id: String) async throws -> ContactList {
        guard IDs.isUUID(id), let row = try await c.queryOne("SELECT \(Self.columns) FROM lists l WHERE l.org_id = ? AND l.uuid = ?", [.int(scope.key), .text(id.lowercased())]) else {
            throw StoreError.notFound("list")
        }
        return Self.list(row)
    }

    public func get(_ scope: OrganizationScope, id: String) async throws -> ContactList {
        try await db.read { c in try await load(c, scope, id: id) }
    }

    public func all(_ scope: OrganizationScope, before: Int64?, limit: Int) async throws -> [ContactList] {
        try await db.read { c in
            try await c.query("SELECT \(Self.columns) FROM lists l WHERE l.org_id = ? AND l.id < ? ORDER BY l.id DESC LIMIT ?",
                              [.int(scope.key), .int(before ?? Int64.max), .int(Int64(limit))]).map(Self.list)
        }
    }

    public func update(_ scope: OrganizationScope, id: String, name: String?, description: FieldUpdate<String>) async throws -> ContactList {
        try await db.transaction { c in
            let current = try await load(c, scope, id: id)
            var sets = ["updated_at = ?"]
            var binds: [SQLValue] = [.int(Clock.nowMillis())]
            if let name { sets.append("name = ?"); binds.append(.text(name)) }
            switch description {
            case .unchanged: break
            case .clear: sets.append("description = NULL")
            case .set(let d): sets.append("description = ?"); binds.append(.text(d))
            }
            try await c.execute("UPDATE lists SET \(sets.joined(separator: ", ")) WHERE org_id = ? AND id = ?", binds + [.int(scope.key), .int(current.key)])
            return try await load(c, scope, id: id)
        }
    }

    public func delete(_ scope: OrganizationScope, id: String) async throws {
        try await db.transaction { c in
            let current = try await load(c, scope, id: id)
            try await c.execute("DELETE FROM list_members WHERE org_id = ? AND list_id = ?", [.int(scope.key), .int(current.key)])
            try await c.execute("DELETE FROM lists WHERE org_id = ? AND id = ?", [.int(scope.key), .int(current.key)])
        }
    }

    public struct AddResult: Sendable, Hashable {
        public var added: Int
        public var alreadyPresent: Int
        public var invalid: [String]
    }

    /// Adds contacts by id or by (already normalized) phone; unknown ids/phones are `invalid`.
    /// Set-based, a chunk at a time (`DeliveryStore.chunks`): up to 10,000 entries are a few
    /// dozen statements, not a lookup and an insert each. Each entry counts in the order given:
    /// `added` when this call inserted its contact, else `alreadyPresent` (a member before, an
    /// earlier entry naming the same contact, or a concurrent call that inserted it first).
    public func add(_ scope: OrganizationScope, id: String, contactIds: [String], phones: [String], invalidInput: [String] = []) async throws -> AddResult {
        try await db.transaction { c in
            let list = try await load(c, scope, id: id)
            var result = AddResult(added: 0, alreadyPresent: 0, invalid: invalidInput)
            let byUUID = try await Self.contactKeys(c, scope, column: "uuid", values: contactIds.filter(IDs.isUUID).map { $0.lowercased() })
            let byPhone = try await Self.contactKeys(c, scope, column: "phone", values: phones)
            let entries: [(input: String, key: Int64?)] = contactIds.map { ($0, byUUID[$0.lowercased()]) } + phones.map { ($0, byPhone[$0]) }
            let now = Clock.nowMillis()
            var inserted = Set<Int64>()
            let keys = Array(Set(entries.compactMap(\.key)))
            for chunk in DeliveryStore.chunks(keys.count) {
                let rows = try await c.query("""
                    INSERT INTO list_members (list_id, contact_id, org_id, added_at) VALUES \(DeliveryStore.valuesRows(chunk.count, "(?, ?, ?, ?)"))
                    ON CONFLICT DO NOTHING RETURNING contact_id
                    """, keys[chunk].flatMap { [SQLValue.int(list.key), .int($0), .int(scope.key), .int(now)] })
                inserted.formUnion(rows.map { $0.int(0) })
            }
            for (input, key) in entries {
                guard let key else { result.invalid.append(input); continue }
                if inserted.remove(key) != nil { result.added += 1 } else { result.alreadyPresent += 1 }
            }
            try await c.execute("UPDATE lists SET updated_at = ? WHERE id = ?", [.int(now), .int(list.key)])
            return result
        }
    }

    /// The organization's contact keys by `column` (`uuid` or `phone`) for `values`, a chunk at
    /// a time; values with no contact are absent.
    static func contactKeys(_ c: any SQLConnection, _ scope: OrganizationScope, column: String, values: [String]) async throws -> [String: Int64] {
        precondition(column == "uuid" || column == "phone")
        let distinct = Array(Set(values))
        var keys: [String: Int64] = [:]
        for chunk in DeliveryStore.chunks(distinct.count) {
            for r in try await c.query("SELECT \(column), id FROM contacts WHERE org_id = ? AND \(column) IN (\(SQLFragment.placeholders(chunk.count)))",
                                       [.int(scope.key)] + distinct[chunk].map { .text($0) }) {
                keys[r.text(0)] = r.int(1)
            }
        }
        return keys
    }

    /// Removes contacts from the list; returns how many were removed.
    public func remove(_ scope: OrganizationScope, id: String, contactIds: [String]) async throws -> Int {
        try await db.transaction { c in
            let list = try await load(c, scope, id: id)
            let uuids = Array(Set(contactIds.filter(IDs.isUUID).map { $0.lowercased() }))
            var removed = 0
            for chunk in DeliveryStore.chunks(uuids.count) {
                removed += try await c.execute("""
                    DELETE FROM list_members WHERE org_id = ? AND list_id = ?
                    AND contact_id IN (SELECT id FROM contacts WHERE org_id = ? AND uuid IN (\(SQLFragment.placeholders(chunk.count))))
                    """, [.int(scope.key), .int(list.key), .int(scope.key)] + uuids[chunk].map { .text($0) })
            }
            return removed
        }
    }

    /// The internal keys of lists given by public id; unknown ids are returned separately.
    public func keys(_ scope: OrganizationScope, ids: [String]) async throws -> (found: [Int64], missing: [String]) {
        try await db.read { c in
            var found: [Int64] = []
            var missing: [String] = []
            for id in ids {
                if IDs.isUUID(id), let row = try await c.queryOne("SELECT id FROM lists WHERE org_id = ? AND uuid = ?", [.int(scope.key), .text(id.lowercased())]) {
                    found.append(row.int(0))
                } else {
                    missing.append(id)
                }
            }
            return (found, missing)
        }
    }
}

/// Saved segments (API.md §3). All SQL for them lives here.
public struct SegmentStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    private static let columns = "id, uuid, name, filter, created_at, updated_at"

    private static func segment(_ r: SQLRow) -> SegmentRecord {
        SegmentRecord(key: r.int(0), id: r.text(1), name: r.text(2), filterJSON: r.text(3), createdAt: r.int(4), updatedAt: r.int(5))
    }

    public func create(_ scope: OrganizationScope, name: String, filterJSON: String) async throws -> SegmentRecord {
        try await db.transaction { c in
            let now = Clock.nowMillis()
            let uuid = IDs.make()
            try await c.execute("INSERT INTO segments (uuid, org_id, name, filter, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                                [.text(uuid), .int(scope.key), .text(name), .text(filterJSON), .int(now), .int(now)])
            return try await load(c, scope, id: uuid)
        }
    }

    func load(_ c: any SQLConnection, _ scope: OrganizationScope, id: String) async throws -> SegmentRecord {
        guard IDs.isUUID(id), let row = try await c.queryOne("SELECT \(Self.columns) FROM segments WHERE org_id = ? AND uuid = ?", [.int(scope.key), .text(id.lowercased())]) else {
            throw StoreError.notFound("segment")
        }
        return Self.segment(row)
    }

    public func get(_ scope: OrganizationScope, id: String) async throws -> SegmentRecord {
        try await db.read { c in try await load(c, scope, id: id) }
    }

    public func all(_ scope: OrganizationScope, before: Int64?, limit: Int) async throws -> [SegmentRecord] {
        try await db.read { c in
            try await c.query("SELECT \(Self.columns) FROM segments WHERE org_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                              [.int(scope.key), .int(before ?? Int64.max), .int(Int64(limit))]).map(Self.segment)
        }
    }

    public func update(_ scope: OrganizationScope, id: String, name: String?, filterJSON: String?) async throws -> SegmentRecord {
        try await db.transaction { c in
            let current = try await load(c, scope, id: id)
            var sets = ["updated_at = ?"]
            var binds: [SQLValue] = [.int(Clock.nowMillis())]
            if let name { sets.append("name = ?"); binds.append(.text(name)) }
            if let filterJSON { sets.append("filter = ?"); binds.append(.text(filterJSON)) }
            try await c.execute("UPDATE segments SET \(sets.joined(separator: ", ")) WHERE org_id = ? AND id = ?", binds + [.int(scope.key), .int(current.key)])
            return try await load(c, scope, id: id)
        }
    }

    /// Deletes the segment unless `inUse` (checked inside the same transaction) says a scheduled
    /// or running campaign uses it.
    public func delete(_ scope: OrganizationScope, id: String, inUse: @Sendable (any SQLConnection, Int64) async throws -> Bool = { _, _ in false }) async throws {
        try await db.transaction { c in
            let current = try await load(c, scope, id: id)
            if try await inUse(c, current.key) {
                throw StoreError.invalidState("a scheduled or running campaign uses this segment")
            }
            try await c.execute("DELETE FROM segments WHERE org_id = ? AND id = ?", [.int(scope.key), .int(current.key)])
        }
    }
}
