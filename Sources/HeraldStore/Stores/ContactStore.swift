import Foundation
import HeraldCore

/// Contacts and their tags (API.md §3). All SQL for them lives here; every statement is scoped by
/// `org_id`.
public struct ContactStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    static let columns = "c.id, c.uuid, c.phone, c.first_name, c.last_name, c.email, c.city, c.state, c.zip, c.timezone, c.custom_fields, c.opted_out_at, c.is_textable, c.created_at, c.updated_at"

    static func contact(_ r: SQLRow, tags: [String] = []) -> Contact {
        Contact(key: r.int(0), id: r.text(1), phone: r.text(2), firstName: r.optionalText(3), lastName: r.optionalText(4),
                email: r.optionalText(5), city: r.optionalText(6), state: r.optionalText(7), zip: r.optionalText(8),
                timezone: r.optionalText(9), tags: tags, customFields: CustomFieldsCodec.decode(r.text(10)),
                optedOutAt: r.optionalInt(11), isTextable: r.bool(12), createdAt: r.int(13), updatedAt: r.int(14))
    }

    /// Fills in the tags of `contacts` with one query.
    static func withTags(_ c: any SQLConnection, _ contacts: [Contact]) async throws -> [Contact] {
        guard !contacts.isEmpty else { return contacts }
        let keys = contacts.map { SQLValue.int($0.key) }
        let rows = try await c.query("SELECT contact_id, tag FROM contact_tags WHERE contact_id IN (\(SQLFragment.placeholders(keys.count))) ORDER BY tag", keys)
        var tags: [Int64: [String]] = [:]
        for r in rows { tags[r.int(0), default: []].append(r.text(1)) }
        return contacts.map { var x = $0; x.tags = tags[x.key] ?? []; return x }
    }

    // MARK: create / merge

    public enum Outcome: String, Sendable { case created, merged }

    /// Creates the contact, or merges into the one with the same phone: given fields overwrite,
    /// tags are added, custom fields merged (API.md §3).
    public func upsert(_ scope: OrganizationScope, _ changes: ContactChanges) async throws -> (Contact, Outcome) {
        guard let phone = changes.phone else { throw StoreError.invalidState("phone is required") }
        return try await db.transaction { c in
            func existing() async throws -> Int64? {
                try await c.queryOne("SELECT id FROM contacts WHERE org_id = ? AND phone = ?", [.int(scope.key), .text(phone)])?.int(0)
            }
            let key: Int64
            let outcome: Outcome
            if let found = try await existing() {
                key = found
                outcome = .merged
            } else if let created = try await insert(c, scope, changes) {
                key = created
                outcome = .created
            } else {
                // Another request created this phone's contact after the lookup (the insert
                // waited for it and stood aside): merge into it like any existing contact.
                guard let found = try await existing() else {
                    throw StoreError.conflict(field: "phone", message: "the contact with this phone number could not be written")
                }
                key = found
                outcome = .merged
            }
            if outcome == .merged { try await apply(c, scope, key: key, changes) }
            return (try await load(c, scope, key: key), outcome)
        }
    }

    /// Inserts a contact; `nil` when a contact with its phone already exists (committed by a
    /// concurrent transaction after the caller looked), so that the caller merges instead of
    /// failing on the unique (org_id, phone) key.
    func insert(_ c: any SQLConnection, _ scope: OrganizationScope, _ ch: ContactChanges, importKey: Int64? = nil) async throws -> Int64? {
        let now = Clock.nowMillis()
        let custom = CustomFieldsCodec.encode((ch.customFields ?? [:]).compactMapValues { $0 })
        let optedOut: SQLValue = (ch.optedOut ?? false) ? .int(now) : .null
        // A phone whose opted-out contact was deleted starts opted out again (`suppressed_phones`).
        let row = try await c.queryOne("""
            INSERT INTO contacts (uuid, org_id, phone, first_name, last_name, email, city, state, zip, timezone, custom_fields, opted_out_at, is_textable, last_import_id, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, (SELECT s.opted_out_at FROM suppressed_phones s WHERE s.org_id = ? AND s.phone = ?)), ?, ?, ?, ?)
            ON CONFLICT (org_id, phone) DO NOTHING
            RETURNING id
            """, [.text(IDs.make()), .int(scope.key), .text(ch.phone ?? ""), .optional(ch.firstName.valueOrNil), .optional(ch.lastName.valueOrNil),
                  .optional(ch.email.valueOrNil), .optional(ch.city.valueOrNil), .optional(ch.state.valueOrNil), .optional(ch.zip.valueOrNil),
                  .optional(ch.timezone.valueOrNil), .text(custom), optedOut, .int(scope.key), .text(ch.phone ?? ""),
                  .bool(ch.isTextable ?? true), .optional(importKey), .int(now), .int(now)])
        guard let key = row?.int(0) else { return nil }
        try await addTags(c, scope, key: key, ch.tags ?? [])
        return key
    }

    /// Applies changes to an existing contact.
    func apply(_ c: any SQLConnection, _ scope: OrganizationScope, key: Int64, _ ch: ContactChanges, importKey: Int64? = nil) async throws {
        var sets: [String] = []
        var binds: [SQLValue] = []
        func set(_ column: String, _ update: FieldUpdate<String>) {
            switch update {
            case .unchanged: return
            case .clear: sets.append("\(column) = NULL")
            case .set(let v): sets.append("\(column) = ?"); binds.append(.text(v))
            }
        }
        if let phone = ch.phone { sets.append("phone = ?"); binds.append(.text(phone)) }
        if let t = ch.isTextable { sets.append("is_textable = ?"); binds.append(.bool(t)) }
        set("first_name", ch.firstName)
        set("last_name", ch.lastName)
        set("email", ch.email)
        set("city", ch.city)
        set("state", ch.state)
        set("zip", ch.zip)
        set("timezone", ch.timezone)
        if let custom = ch.customFields, !custom.isEmpty {
            // RFC 7396 merge: a null value removes the key.
            sets.append("custom_fields = \(c.dialect.jsonMerge("custom_fields"))")
            binds.append(.text(CustomFieldsCodec.encodePatch(custom)))
        }
        if let optedOut = ch.optedOut {
            if optedOut {
                sets.append("opted_out_at = COALESCE(opted_out_at, ?)")
                binds.append(.int(Clock.nowMillis()))
            } else {
                sets.append("opted_out_at = NULL")
            }
        }
        if let importKey { sets.append("last_import_id = ?"); binds.append(.int(importKey)) }
        sets.append("updated_at = ?")
        binds.append(.int(Clock.nowMillis()))
        binds.append(.int(scope.key))
        binds.append(.int(key))
        do {
            try await c.execute("UPDATE contacts SET \(sets.joined(separator: ", ")) WHERE org_id = ? AND id = ?", binds)
        } catch let e as SQLError where e.isUniqueViolation {
            throw StoreError.conflict(field: "phone", message: "another contact already has this phone number")
        }
        if ch.optedOut == false {
            // An opt-in: the phone is no longer suppressed either.
            try await c.execute("DELETE FROM suppressed_phones WHERE org_id = ? AND phone = (SELECT phone FROM contacts WHERE org_id = ? AND id = ?)",
                                [.int(scope.key), .int(scope.key), .int(key)])
        }
        if let tags = ch.tags {
            if ch.replaceTags {
                try await c.execute("DELETE FROM contact_tags WHERE org_id = ? AND contact_id = ?", [.int(scope.key), .int(key)])
            }
            try await addTags(c, scope, key: key, tags)
        }
    }

    func addTags(_ c: any SQLConnection, _ scope: OrganizationScope, key: Int64, _ tags: [String]) async throws {
        for tag in tags {
            try await c.execute("INSERT INTO contact_tags (org_id, contact_id, tag) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                [.int(scope.key), .int(key), .text(tag)])
        }
    }

    func load(_ c: any SQLConnection, _ scope: OrganizationScope, key: Int64) async throws -> Contact {
        guard let row = try await c.queryOne("SELECT \(Self.columns) FROM contacts c WHERE c.org_id = ? AND c.id = ?", [.int(scope.key), .int(key)]) else {
            throw StoreError.notFound("contact")
        }
        return try await Self.withTags(c, [Self.contact(row)])[0]
    }

    func key(_ c: any SQLConnection, _ scope: OrganizationScope, id: String) async throws -> Int64 {
        guard IDs.isUUID(id), let row = try await c.queryOne("SELECT id FROM contacts WHERE org_id = ? AND uuid = ?", [.int(scope.key), .text(id.lowercased())]) else {
            throw StoreError.notFound("contact")
        }
        return row.int(0)
    }

    // MARK: read / update / delete

    public func get(_ scope: OrganizationScope, id: String) async throws -> Contact {
        try await db.read { c in try await load(c, scope, key: try await key(c, scope, id: id)) }
    }

    public func find(_ scope: OrganizationScope, phone: String) async throws -> Contact? {
        try await db.read { c in
            guard let row = try await c.queryOne("SELECT \(Self.columns) FROM contacts c WHERE c.org_id = ? AND c.phone = ?", [.int(scope.key), .text(phone)]) else { return nil }
            return try await Self.withTags(c, [Self.contact(row)])[0]
        }
    }

    public func update(_ scope: OrganizationScope, id: String, _ changes: ContactChanges) async throws -> Contact {
        try await db.transaction { c in
            let k = try await key(c, scope, id: id)
            try await apply(c, scope, key: k, changes)
            return try await load(c, scope, key: k)
        }
    }

    /// Deletes the contact; its delivery records stay for reporting.
    public func delete(_ scope: OrganizationScope, id: String) async throws {
        try await db.transaction { c in
            let k = try await key(c, scope, id: id)
            // Its opt-out outlives it: a contact created again with this phone starts opted out.
            try await c.execute("""
                INSERT INTO suppressed_phones (org_id, phone, opted_out_at)
                SELECT org_id, phone, opted_out_at FROM contacts WHERE org_id = ? AND id = ? AND opted_out_at IS NOT NULL
                ON CONFLICT (org_id, phone) DO UPDATE SET opted_out_at = excluded.opted_out_at
                """, [.int(scope.key), .int(k)])
            try await c.execute("DELETE FROM contact_tags WHERE org_id = ? AND contact_id = ?", [.int(scope.key), .int(k)])
            try await c.execute("DELETE FROM list_members WHERE org_id = ? AND contact_id = ?", [.int(scope.key), .int(k)])
            try await c.execute("DELETE FROM contacts WHERE org_id = ? AND id = ?", [.int(scope.key), .int(k)])
        }
    }

    public func setOptedOut(_ scope: OrganizationScope, id: String, _ optedOut: Bool) async throws -> Contact {
        var changes = ContactChanges()
        changes.optedOut = optedOut
        return try await update(scope, id: id, changes)
    }

    // MARK: listing

    /// Lists contacts matching `query`, newest first by the chosen sort, keyset-paginated.
    public func list(_ scope: OrganizationScope, _ query: ContactListQuery) async throws -> (contacts: [Contact], total: Int64?) {
        if query.searchMatch != nil { try await syncSearchIndex(ifBehindBy: ContactSearchIndex.syncThreshold) }
        return try await db.read { c in
            let rows = try await query.page(c, scope: scope)
            let contacts = try await Self.withTags(c, rows.map { Self.contact($0) })
            let total = query.includeTotal ? try await query.total(c, scope: scope) : nil
            return (contacts, total)
        }
    }

    /// The query plans of the page and count statements of `query` (SQLite `EXPLAIN QUERY PLAN`,
    /// PostgreSQL `EXPLAIN`), one line per plan row; for benchmarks and diagnosis.
    public func explain(_ scope: OrganizationScope, _ query: ContactListQuery) async throws -> [String] {
        try await db.read { c in
            var lines: [String] = []
            let prefix = c.dialect == .sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN "
            var statements = [("page", query.pageSQL(scope: scope, dialect: c.dialect)), ("count", query.countSQL(scope: scope, dialect: c.dialect))]
            if c.dialect == .sqlite, query.hasSelectiveFilter {
                statements.append(("walk", query.walkSQL(scope: scope)))
                if let driver = try await query.driver(c, scope: scope) {
                    statements.append(("driven(\(driver.estimate) candidates)", query.drivenSQL(scope: scope, driver: driver.fragment)))
                }
            }
            for (name, statement) in statements {
                for r in try await c.query(prefix + statement.sql, statement.binds) {
                    lines.append("\(name): " + r.values.map { v -> String in if case .text(let t) = v { return t }; return "" }.filter { !$0.isEmpty }.joined(separator: " "))
                }
            }
            return lines
        }
    }

    /// Counts contacts matching `query` (ignores pagination).
    public func count(_ scope: OrganizationScope, _ query: ContactListQuery) async throws -> Int64 {
        if query.searchMatch != nil { try await syncSearchIndex(ifBehindBy: ContactSearchIndex.syncThreshold) }
        return try await db.read { c in
            try await query.total(c, scope: scope)
        }
    }

    /// Brings the SQLite search index up to date when more than `ifBehindBy` contacts are not
    /// covered by it (see `ContactSearchIndex`); a no-op on PostgreSQL, whose trigram indexes
    /// are maintained by the engine. Searches are exact either way; this keeps them fast. A
    /// bulk import should call it once at its end (1M new contacts take a few seconds);
    /// otherwise the first search after the import does.
    public func syncSearchIndex(ifBehindBy threshold: Int64 = 0) async throws {
        guard db.dialect == .sqlite else { return }
        if try await db.read({ c in try await ContactSearchIndex.backlog(c) }) <= threshold { return }
        try await db.transaction { c in
            if try await ContactSearchIndex.backlog(c) > threshold { try await ContactSearchIndex.sync(c) }
        }
    }

    /// The organization's tags in name order with their contact counts, `limit` at a time, after
    /// the tag `after` (keyset paging on the `(org_id, tag, contact_id)` index).
    public func tags(_ scope: OrganizationScope, after: String? = nil, limit: Int = 1000) async throws -> [(name: String, contactCount: Int64)] {
        try await db.read { c in
            try await c.query("SELECT tag, COUNT(*) FROM contact_tags WHERE org_id = ? AND tag > ? GROUP BY tag ORDER BY tag LIMIT ?",
                              [.int(scope.key), .text(after ?? ""), .int(Int64(limit))])
                .map { ($0.text(0), $0.int(1)) }
        }
    }

    /// The custom field names in use in this organization (for merge-field validation).
    public func customFieldNames(_ scope: OrganizationScope) async throws -> Set<String> {
        try await db.read { c in
            let sql = c.dialect == .postgres
                ? "SELECT DISTINCT jsonb_object_keys(custom_fields::jsonb) FROM contacts WHERE org_id = ? AND custom_fields <> '{}'"
                : "SELECT DISTINCT j.key FROM contacts, json_each(contacts.custom_fields) j WHERE contacts.org_id = ? AND contacts.custom_fields <> '{}'"
            return Set(try await c.query(sql, [.int(scope.key)]).map { $0.text(0) })
        }
    }
}

/// Custom fields are stored as a JSON object of strings.
enum CustomFieldsCodec {
    static func decode(_ text: String) -> [String: String] {
        guard text != "{}", let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in object {
            if let s = v as? String { out[k] = s } else { out[k] = "\(v)" }
        }
        return out
    }

    static func encode(_ fields: [String: String]) -> String {
        guard !fields.isEmpty else { return "{}" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(fields), as: UTF8.self)) ?? "{}"
    }

    /// The bulk import's encoder: the same JSON object as `encodePatch` (keys sorted, `/` not
    /// escaped), written by hand because `JSONEncoder` costs microseconds per row. Falls back to
    /// `encodePatch` for strings with control characters.
    static func encodeFast(_ fields: [String: String?]) -> String {
        if fields.isEmpty { return "{}" }
        var out = "{"
        var first = true
        for key in fields.keys.sorted() {
            if !first { out += "," }
            first = false
            guard appendJSONString(&out, key) else { return encodePatch(fields) }
            out += ":"
            if let value = fields[key] ?? nil {
                guard appendJSONString(&out, value) else { return encodePatch(fields) }
            } else {
                out += "null"
            }
        }
        out += "}"
        return out
    }

    private static func appendJSONString(_ out: inout String, _ s: String) -> Bool {
        out += "\""
        var start = s.utf8.startIndex
        for i in s.utf8.indices {
            let b = s.utf8[i]
            if b < 0x20 { return false }
            if b == 0x22 || b == 0x5C {
                out += s[start..<i]
                out += b == 0x22 ? "\\\"" : "\\\\"
                start = s.utf8.index(after: i)
            }
        }
        out += s[start...]
        out += "\""
        return true
    }

    /// A JSON merge patch (RFC 7396): nil values become JSON null, which removes the key.
    static func encodePatch(_ fields: [String: String?]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(fields), as: UTF8.self)) ?? "{}"
    }
}

extension SQLDialect {
    /// An expression merging a JSON merge patch bound as the next `?` into a JSON text column.
    func jsonMerge(_ column: String) -> String {
        switch self {
        case .sqlite: return "json_patch(\(column), ?)"
        case .postgres: return "jsonb_strip_nulls(\(column)::jsonb || ?::jsonb)::text"
        }
    }
}
