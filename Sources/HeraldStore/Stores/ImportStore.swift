import CSQLite
import Foundation
import HeraldCore

/// CSV import jobs and their row errors (API.md §3). The bulk write path of the importer lives
/// here too, so that all contact-writing SQL of an import is in one place.
public struct ImportStore: Sendable {
    let db: any SQLDatabase
    public static let maxStoredErrors = 1000

    public init(db: any SQLDatabase) { self.db = db }

    public struct Options: Codable, Sendable, Hashable {
        public var tags: [String]
        public var listId: String?
        public var defaultCountry: String

        public init(tags: [String], listId: String?, defaultCountry: String) {
            self.tags = tags
            self.listId = listId
            self.defaultCountry = defaultCountry
        }
    }

    public func create(_ scope: OrganizationScope, options: Options, filePath: String) async throws -> ImportJob {
        try await db.transaction { c in
            let uuid = IDs.make()
            let optionsJSON = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
            try await c.execute("INSERT INTO imports (uuid, org_id, status, options, file_path, started_at) VALUES (?, ?, 'processing', ?, ?, ?)",
                                [.text(uuid), .int(scope.key), .text(optionsJSON), .text(filePath), .int(Clock.nowMillis())])
            return try await load(c, scope, id: uuid, withErrors: false)
        }
    }

    func load(_ c: any SQLConnection, _ scope: OrganizationScope, id: String, withErrors: Bool) async throws -> ImportJob {
        guard IDs.isUUID(id), let r = try await c.queryOne("""
            SELECT id, uuid, status, total_rows, created, merged, invalid, duplicate_rows, failure_reason, started_at, completed_at
            FROM imports WHERE org_id = ? AND uuid = ?
            """, [.int(scope.key), .text(id.lowercased())]) else {
            throw StoreError.notFound("import")
        }
        var errors: [ImportJob.RowError] = []
        if withErrors {
            errors = try await c.query("SELECT row_number, field, message FROM import_errors WHERE import_id = ? ORDER BY row_number, field LIMIT ?",
                                       [.int(r.int(0)), .int(Int64(Self.maxStoredErrors))])
                .map { ImportJob.RowError(row: $0.int(0), field: $0.text(1), message: $0.text(2)) }
        }
        return ImportJob(key: r.int(0), id: r.text(1), status: ImportJob.Status(rawValue: r.text(2)) ?? .processing, totalRows: r.int(3),
                         created: r.int(4), merged: r.int(5), invalid: r.int(6), duplicateRows: r.int(7), errors: errors,
                         failureReason: r.optionalText(8), startedAt: r.int(9), completedAt: r.optionalInt(10))
    }

    public func get(_ scope: OrganizationScope, id: String) async throws -> ImportJob {
        try await db.read { c in try await load(c, scope, id: id, withErrors: true) }
    }

    /// A job waiting to be processed (status processing), with its organization, options and file.
    public struct Pending: Sendable {
        public var scope: OrganizationScope
        public var key: Int64
        public var id: String
        public var options: Options
        public var filePath: String
    }

    /// Jobs still `processing` (new ones, and ones a crash interrupted: they restart from the
    /// file; re-running rows is harmless because rows merge by phone).
    public func pending() async throws -> [Pending] {
        try await db.read { c in
            try await c.query("""
                SELECT i.id, i.uuid, i.options, i.file_path, o.id, o.uuid FROM imports i JOIN organizations o ON o.id = i.org_id
                WHERE i.status = 'processing' AND i.file_path IS NOT NULL ORDER BY i.id
                """, []).compactMap { r in
                guard let options = try? JSONDecoder().decode(Options.self, from: Data(r.text(2).utf8)) else { return nil }
                return Pending(scope: OrganizationScope(key: r.int(4), id: r.text(5)), key: r.int(0), id: r.text(1), options: options, filePath: r.text(3))
            }
        }
    }

    /// Counters of a running import, written after each batch.
    public struct Progress: Sendable, Hashable {
        public var totalRows: Int64 = 0
        public var created: Int64 = 0
        public var merged: Int64 = 0
        public var invalid: Int64 = 0
        public var duplicateRows: Int64 = 0
        public init() {}
    }

    /// One parsed, normalized CSV row ready to write.
    public struct Row: Sendable {
        public var rowNumber: Int64
        public var changes: ContactChanges

        public init(rowNumber: Int64, changes: ContactChanges) {
            self.rowNumber = rowNumber
            self.changes = changes
        }
    }

    /// Writes one batch of rows in one transaction: each row merges by phone (a row whose phone an
    /// earlier row of this import already wrote counts as a duplicate row), then records progress
    /// and row errors. Returns the updated progress. On SQLite the rows go through prepared
    /// statements bound directly (`writeRowsSQLite`); elsewhere through the portable stores.
    public func writeBatch(_ job: Pending, listKey: Int64?, rows: [Row], errors: [ImportJob.RowError], progress: Progress) async throws -> Progress {
        if let sqlite = db as? SQLiteDatabase {
            return try await sqlite.withWriter { c in
                try c.run("BEGIN IMMEDIATE")
                do {
                    var p = progress
                    try writeRowsSQLite(c, job, listKey: listKey, rows: rows, progress: &p)
                    try await finishBatch(c, job, errors: errors, progress: p)
                    try c.run("COMMIT")
                    return p
                } catch {
                    try? c.run("ROLLBACK")
                    throw error
                }
            }
        }
        return try await db.transaction { c in
            var p = progress
            let contacts = ContactStore(db: db)
            let now = Clock.nowMillis()
            for row in rows {
                let phone = row.changes.phone ?? ""
                let existing = try await c.queryOne("SELECT id, last_import_id FROM contacts WHERE org_id = ? AND phone = ?", [.int(job.scope.key), .text(phone)])
                let key: Int64
                if let existing {
                    key = existing.int(0)
                    if existing.optionalInt(1) == job.key { p.duplicateRows += 1 } else { p.merged += 1 }
                    try await contacts.apply(c, job.scope, key: key, row.changes, importKey: job.key)
                } else {
                    key = try await contacts.insert(c, job.scope, row.changes, importKey: job.key)
                    p.created += 1
                }
                if let listKey {
                    try await c.execute("INSERT INTO list_members (list_id, contact_id, org_id, added_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                        [.int(listKey), .int(key), .int(job.scope.key), .int(now)])
                }
            }
            try await finishBatch(c, job, errors: errors, progress: p)
            return p
        }
    }

    /// Stores the batch's row errors (the first `maxStoredErrors` of the job) and its counters.
    func finishBatch(_ c: any SQLConnection, _ job: Pending, errors: [ImportJob.RowError], progress p: Progress) async throws {
        if !errors.isEmpty {
            let stored = try await c.queryOne("SELECT COUNT(*) FROM import_errors WHERE import_id = ?", [.int(job.key)])?.int(0) ?? 0
            for e in errors.prefix(max(0, Self.maxStoredErrors - Int(stored))) {
                try await c.execute("INSERT INTO import_errors (import_id, row_number, field, message) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                    [.int(job.key), .int(e.row), .text(e.field), .text(e.message)])
            }
        }
        try await c.execute("UPDATE imports SET total_rows = ?, created = ?, merged = ?, invalid = ?, duplicate_rows = ? WHERE id = ?",
                            [.int(p.totalRows), .int(p.created), .int(p.merged), .int(p.invalid), .int(p.duplicateRows), .int(job.key)])
    }

    /// The SQLite fast path of `writeBatch`, with the same semantics as `ContactStore.insert` and
    /// `ContactStore.apply` for import changes (fields are only ever set or left alone, never
    /// cleared): one INSERT … ON CONFLICT DO NOTHING per row, and only for an existing phone a lookup
    /// and one fixed-shape UPDATE, then the
    /// tag rows; no per-row `SQLValue` arrays, SQL strings or suspension points.
    func writeRowsSQLite(_ c: SQLiteConnection, _ job: Pending, listKey: Int64?, rows: [Row], progress p: inout Progress) throws {
        let lookup = try c.statement("SELECT id, last_import_id FROM contacts WHERE org_id = ?1 AND phone = ?2")
        let insert = try c.statement("""
            INSERT INTO contacts (uuid, org_id, phone, first_name, last_name, email, city, state, zip, timezone, custom_fields, opted_out_at, is_textable, last_import_id, created_at, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)
            ON CONFLICT (org_id, phone) DO NOTHING
            """)
        let update = try c.statement("""
            UPDATE contacts SET is_textable = COALESCE(?2, is_textable), first_name = COALESCE(?3, first_name), last_name = COALESCE(?4, last_name),
              email = COALESCE(?5, email), city = COALESCE(?6, city), state = COALESCE(?7, state), zip = COALESCE(?8, zip),
              timezone = COALESCE(?9, timezone), custom_fields = CASE WHEN ?10 IS NULL THEN custom_fields ELSE json_patch(custom_fields, ?10) END,
              opted_out_at = CASE ?11 WHEN 1 THEN COALESCE(opted_out_at, ?12) WHEN 0 THEN NULL ELSE opted_out_at END,
              last_import_id = ?13, updated_at = ?12
            WHERE id = ?1
            """)
        let tag = try c.statement("INSERT INTO contact_tags (org_id, contact_id, tag) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
        let member = try c.statement("INSERT INTO list_members (list_id, contact_id, org_id, added_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING")
        let org = job.scope.key
        let now = Clock.nowMillis()
        var uuids = Self.randomUUIDs(rows.count)
        for row in rows {
            let ch = row.changes
            let custom = ch.customFields.map { CustomFieldsCodec.encodeFast($0) }
            // Insert first (most rows are new): the unique (org_id, phone) index is probed once
            // by the INSERT; only when it reports a conflict is the existing contact looked up
            // and updated.
            insert.bind(1, uuids.next())
            insert.bind(2, org)
            insert.bind(3, ch.phone ?? "")
            insert.bind(4, ch.firstName.valueOrNil)
            insert.bind(5, ch.lastName.valueOrNil)
            insert.bind(6, ch.email.valueOrNil)
            insert.bind(7, ch.city.valueOrNil)
            insert.bind(8, ch.state.valueOrNil)
            insert.bind(9, ch.zip.valueOrNil)
            insert.bind(10, ch.timezone.valueOrNil)
            insert.bind(11, custom ?? "{}")
            insert.bind(12, (ch.optedOut ?? false) ? now : nil)
            insert.bind(13, (ch.isTextable ?? true) ? 1 : 0)
            insert.bind(14, job.key)
            insert.bind(15, now)
            try insert.step()
            insert.reset()
            let key: Int64
            if c.changes == 1 {
                key = c.lastInsertRowID
                p.created += 1
            } else {
                lookup.bind(1, org)
                lookup.bind(2, ch.phone ?? "")
                guard try lookup.step() else {
                    lookup.reset()
                    throw StoreError.conflict(field: "phone", message: "the contact with this phone number could not be written")
                }
                let existing = (key: lookup.optionalInt(0) ?? 0, lastImport: lookup.optionalInt(1))
                lookup.reset()
                key = existing.key
                if existing.lastImport == job.key { p.duplicateRows += 1 } else { p.merged += 1 }
                update.bind(1, key)
                update.bind(2, ch.isTextable.map { $0 ? 1 : 0 })
                update.bind(3, ch.firstName.valueOrNil)
                update.bind(4, ch.lastName.valueOrNil)
                update.bind(5, ch.email.valueOrNil)
                update.bind(6, ch.city.valueOrNil)
                update.bind(7, ch.state.valueOrNil)
                update.bind(8, ch.zip.valueOrNil)
                update.bind(9, ch.timezone.valueOrNil)
                update.bind(10, custom.flatMap { $0 == "{}" ? nil : $0 })
                update.bind(11, ch.optedOut.map { $0 ? 1 : 0 })
                update.bind(12, now)
                update.bind(13, job.key)
                do { try update.step() } catch let e as SQLError where e.isUniqueViolation {
                    throw StoreError.conflict(field: "phone", message: "another contact already has this phone number")
                }
                update.reset()
            }
            for t in ch.tags ?? [] {
                tag.bind(1, org)
                tag.bind(2, key)
                tag.bind(3, t)
                try tag.step()
                tag.reset()
            }
            if let listKey {
                member.bind(1, listKey)
                member.bind(2, key)
                member.bind(3, org)
                member.bind(4, now)
                try member.step()
                member.reset()
            }
        }
    }

    /// Version 4 UUID strings (lowercase, like `IDs.make()`) from SQLite's in-process generator (seeded from the OS):
    /// `UUID()` reads `/dev/urandom` through open/read/close on Linux, which costs more than
    /// writing the whole row.
    static func randomUUIDs(_ count: Int) -> UUIDStrings {
        var bytes = [UInt8](repeating: 0, count: max(1, count) * 16)
        // SQLite's generator: seeded once from the OS, then in-process.
        bytes.withUnsafeMutableBytes { sqlite3_randomness(Int32($0.count), $0.baseAddress) }
        return UUIDStrings(bytes: bytes)
    }

    struct UUIDStrings {
        let bytes: [UInt8]
        var index = 0

        mutating func next() -> String {
            var b = Array(bytes[index * 16 ..< index * 16 + 16])
            index += 1
            b[6] = (b[6] & 0x0F) | 0x40
            b[8] = (b[8] & 0x3F) | 0x80
            let hex = Array("0123456789abcdef".utf8)
            var out = [UInt8]()
            out.reserveCapacity(36)
            for (i, byte) in b.enumerated() {
                if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Takes (or renews) the lease on a job for `owner` until `until`; false when another
    /// process holds a live lease on it.
    public func lease(_ job: Pending, owner: String, until: Int64) async throws -> Bool {
        try await db.transaction { c in
            try await c.execute("UPDATE imports SET lease_owner = ?, lease_until = ? WHERE id = ? AND status = 'processing' AND (lease_owner = ? OR lease_until < ?)",
                                [.text(owner), .int(until), .int(job.key), .text(owner), .int(Clock.nowMillis())]) > 0
        }
    }

    /// Resets a job's counters before a (re)start from the beginning of its file.
    public func restart(_ job: Pending) async throws {
        try await db.transaction { c in
            try await c.execute("DELETE FROM import_errors WHERE import_id = ?", [.int(job.key)])
            try await c.execute("UPDATE imports SET total_rows = 0, created = 0, merged = 0, invalid = 0, duplicate_rows = 0 WHERE id = ?", [.int(job.key)])
            try await c.execute("UPDATE contacts SET last_import_id = NULL WHERE org_id = ? AND last_import_id = ?", [.int(job.scope.key), .int(job.key)])
        }
    }

    public func finish(_ job: Pending, failure: String?) async throws {
        try await db.transaction { c in
            try await c.execute("UPDATE imports SET status = ?, failure_reason = ?, completed_at = ?, file_path = NULL WHERE id = ?",
                                [.text(failure == nil ? "completed" : "failed"), .optional(failure), .int(Clock.nowMillis()), .int(job.key)])
        }
    }

    /// The key of a list of this organization, for `listId`.
    public func listKey(_ scope: OrganizationScope, id: String) async throws -> Int64? {
        try await ListStore(db: db).keys(scope, ids: [id]).found.first
    }
}
