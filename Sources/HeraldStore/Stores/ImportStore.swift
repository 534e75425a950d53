import CSQLite
import Foundation
import HeraldCore

/// CSV import jobs and their row errors (API.md §3). The bulk write path of the importer lives
/// here too, so that all contact-writing SQL of an import is in one place.
public struct ImportStore: Sendable {
    let db: any SQLDatabase
    /// How many row errors `GET /api/contacts/imports/{id}` embeds (the first, in row order,
    /// API.md §3); every error is stored, and `errors(_:id:after:limit:includeTotal:)` pages through them.
    public static let embeddedErrors = 1000

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
        let errors = withErrors ? try await Self.errors(c, importKey: r.int(0), after: nil, limit: Self.embeddedErrors) : []
        return ImportJob(key: r.int(0), id: r.text(1), status: ImportJob.Status(rawValue: r.text(2)) ?? .processing, totalRows: r.int(3),
                         created: r.int(4), merged: r.int(5), invalid: r.int(6), duplicateRows: r.int(7), errors: errors,
                         failureReason: r.optionalText(8), startedAt: r.int(9), completedAt: r.optionalInt(10))
    }

    public func get(_ scope: OrganizationScope, id: String) async throws -> ImportJob {
        try await db.read { c in try await load(c, scope, id: id, withErrors: true) }
    }

    /// A page of the row errors of an import of this organization, in row order (then field),
    /// starting after `after` (the row and field of the previous page's last error); at most
    /// `limit`; with `includeTotal`, how many the job has in all. Throws `notFound` for another
    /// organization's import, like `get`.
    public func errors(_ scope: OrganizationScope, id: String, after: (row: Int64, field: String)?, limit: Int,
                       includeTotal: Bool = false) async throws -> (errors: [ImportJob.RowError], total: Int64?) {
        try await db.read { c in
            let job = try await load(c, scope, id: id, withErrors: false)
            let errors = try await Self.errors(c, importKey: job.key, after: after, limit: limit)
            let total = includeTotal ? try await c.queryOne("SELECT COUNT(*) FROM import_errors WHERE import_id = ?", [.int(job.key)])?.int(0) : nil
            return (errors, total)
        }
    }

    /// Row errors of the import with this key in (row, field) order: one range read of the
    /// primary key (import_id, row_number, field).
    static func errors(_ c: any SQLConnection, importKey: Int64, after: (row: Int64, field: String)?, limit: Int) async throws -> [ImportJob.RowError] {
        let rows: [SQLRow]
        if let after {
            rows = try await c.query("""
                SELECT row_number, field, message FROM import_errors
                WHERE import_id = ? AND (row_number > ? OR (row_number = ? AND field > ?))
                ORDER BY row_number, field LIMIT ?
                """, [.int(importKey), .int(after.row), .int(after.row), .text(after.field), .int(Int64(limit))])
        } else {
            rows = try await c.query("SELECT row_number, field, message FROM import_errors WHERE import_id = ? ORDER BY row_number, field LIMIT ?",
                                     [.int(importKey), .int(Int64(limit))])
        }
        return rows.map { ImportJob.RowError(row: $0.int(0), field: $0.text(1), message: $0.text(2)) }
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
            try await writeRowsPostgres(c, job, listKey: listKey, rows: rows, progress: &p)
            try await finishBatch(c, job, errors: errors, progress: p)
            return p
        }
    }

    /// Stores every row error of the batch, and its counters. The errors are written set-based,
    /// up to 512 a statement (`DeliveryStore.chunks`: power-of-two sizes, so only a few statement
    /// shapes are ever prepared): 10,000 errors are some twenty statements, not 10,000.
    func finishBatch(_ c: any SQLConnection, _ job: Pending, errors: [ImportJob.RowError], progress p: Progress) async throws {
        for chunk in DeliveryStore.chunks(errors.count) {
            try await c.execute("""
                INSERT INTO import_errors (import_id, row_number, field, message) VALUES \(DeliveryStore.valuesRows(chunk.count, "(?, ?, ?, ?)"))
                ON CONFLICT DO NOTHING
                """, errors[chunk].flatMap { e -> [SQLValue] in [.int(job.key), .int(e.row), .text(e.field), .text(e.message)] })
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
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, COALESCE(?12, (SELECT s.opted_out_at FROM suppressed_phones s WHERE s.org_id = ?2 AND s.phone = ?3)), ?13, ?14, ?15, ?15)
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

    /// One row of a PostgreSQL batch, sent as an element of a JSON array and read back with
    /// `jsonb_to_recordset` (one bound parameter per statement, whatever the batch size). `nil`
    /// means "leave the stored value alone" in the UPDATE, as in `ContactStore.apply`.
    struct PostgresRow: Encodable {
        var uuid: String
        var phone: String
        var first_name: String?
        var last_name: String?
        var email: String?
        var city: String?
        var state: String?
        var zip: String?
        var timezone: String?
        var custom_fields: String?
        var opted_out: Bool?
        var is_textable: Int?
    }

    /// A tag row of a PostgreSQL batch.
    struct PostgresTag: Encodable {
        var contact_id: Int64
        var tag: String
    }

    static let postgresColumns = """
        r(uuid text, phone text, first_name text, last_name text, email text, city text, state text, zip text,
          timezone text, custom_fields text, opted_out boolean, is_textable integer)
        """

    /// The PostgreSQL path of `writeBatch`, set-based with the same semantics as the SQLite path:
    /// per round (the first occurrence of each phone in the batch, then the second, …) one
    /// INSERT … ON CONFLICT DO NOTHING RETURNING of every row, one UPDATE … FROM of the rows
    /// whose phone already existed, then one INSERT of all their tag rows and one of their list
    /// memberships. A row counts as a duplicate when an earlier row of this import wrote its
    /// phone: an earlier occurrence in this batch (a later round), or an earlier batch
    /// (`last_import_id` is this job, read before the writes; only this job, under its lease,
    /// sets it).
    func writeRowsPostgres(_ c: any SQLConnection, _ job: Pending, listKey: Int64?, rows: [Row], progress p: inout Progress) async throws {
        guard !rows.isEmpty else { return }
        let org = job.scope.key
        let now = Clock.nowMillis()
        let encoder = JSONEncoder()
        func json<T: Encodable>(_ value: T) throws -> SQLValue { .text(String(decoding: try encoder.encode(value), as: UTF8.self)) }
        var rounds: [[Row]] = []
        var occurrences: [String: Int] = [:]
        for row in rows {
            let phone = row.changes.phone ?? ""
            let n = occurrences[phone, default: 0]
            occurrences[phone] = n + 1
            if n == rounds.count { rounds.append([]) }
            rounds[n].append(row)
        }
        // Every lookup of the batch's phones is one probe of the unique (org_id, phone) key per
        // phone (a LATERAL subquery with LIMIT 1, which the planner cannot turn into a join).
        // A join, or `phone = ANY(…)`, let it pick a scan of the organization's contacts,
        // comparing every row with every phone of the batch, when the statistics of a table an
        // import is filling are stale: 17–24 s for one 10,000-row batch into 30,000 contacts.
        let earlier = Set(try await c.query("""
            SELECT b.phone FROM jsonb_array_elements_text(?::jsonb) AS b(phone)
            CROSS JOIN LATERAL (SELECT c.last_import_id FROM contacts c WHERE c.org_id = ? AND c.phone = b.phone LIMIT 1) x
            WHERE x.last_import_id = ?
            """, [try json(Array(occurrences.keys)), .int(org), .int(job.key)]).map { $0.text(0) })
        var uuids = Self.randomUUIDs(rows.count)
        for (round, batch) in rounds.enumerated() {
            let records = batch.map { row -> PostgresRow in
                let ch = row.changes
                let custom = ch.customFields.map { CustomFieldsCodec.encodeFast($0) }
                return PostgresRow(uuid: uuids.next(), phone: ch.phone ?? "", first_name: ch.firstName.valueOrNil, last_name: ch.lastName.valueOrNil,
                                   email: ch.email.valueOrNil, city: ch.city.valueOrNil, state: ch.state.valueOrNil, zip: ch.zip.valueOrNil,
                                   timezone: ch.timezone.valueOrNil, custom_fields: custom.flatMap { $0 == "{}" ? nil : $0 },
                                   opted_out: ch.optedOut, is_textable: ch.isTextable.map { $0 ? 1 : 0 })
            }
            let data = try json(records)
            var keys: [String: Int64] = [:]
            if round == 0 {
                for r in try await c.query("""
                    INSERT INTO contacts (uuid, org_id, phone, first_name, last_name, email, city, state, zip, timezone, custom_fields, opted_out_at, is_textable, last_import_id, created_at, updated_at)
                    SELECT r.uuid, ?, r.phone, r.first_name, r.last_name, r.email, r.city, r.state, r.zip, r.timezone, COALESCE(r.custom_fields, '{}'),
                      COALESCE(CASE WHEN r.opted_out THEN ? END, (SELECT s.opted_out_at FROM suppressed_phones s WHERE s.org_id = ? AND s.phone = r.phone)),
                      COALESCE(r.is_textable, 1), ?, ?, ?
                    FROM jsonb_to_recordset(?::jsonb) AS \(Self.postgresColumns)
                    ORDER BY r.phone
                    ON CONFLICT (org_id, phone) DO NOTHING
                    RETURNING id, phone
                    """, [.int(org), .int(now), .int(org), .int(job.key), .int(now), .int(now), data]) {
                    keys[r.text(1)] = r.int(0)
                }
                p.created += Int64(keys.count)
            }
            if keys.count < batch.count {
                let updated: [(String, Int64)]
                let remaining = records.filter { keys[$0.phone] == nil }
                do {
                    updated = try await c.query("""
                        UPDATE contacts c SET is_textable = COALESCE(r.is_textable, c.is_textable), first_name = COALESCE(r.first_name, c.first_name),
                          last_name = COALESCE(r.last_name, c.last_name), email = COALESCE(r.email, c.email), city = COALESCE(r.city, c.city),
                          state = COALESCE(r.state, c.state), zip = COALESCE(r.zip, c.zip), timezone = COALESCE(r.timezone, c.timezone),
                          custom_fields = CASE WHEN r.custom_fields IS NULL THEN c.custom_fields ELSE jsonb_strip_nulls(c.custom_fields::jsonb || r.custom_fields::jsonb)::text END,
                          opted_out_at = CASE WHEN r.opted_out IS NULL THEN c.opted_out_at WHEN r.opted_out THEN COALESCE(c.opted_out_at, ?) ELSE NULL END,
                          last_import_id = ?, updated_at = ?
                        FROM (SELECT r.*, x.id FROM jsonb_to_recordset(?::jsonb) AS \(Self.postgresColumns)
                              CROSS JOIN LATERAL (SELECT k.id FROM contacts k WHERE k.org_id = ? AND k.phone = r.phone LIMIT 1) x) AS r
                        WHERE c.org_id = ? AND c.id = r.id
                        RETURNING c.id, c.phone
                        """, [.int(now), .int(job.key), .int(now), try json(remaining), .int(org), .int(org)]).map { ($0.text(1), $0.int(0)) }
                } catch let e as SQLError where e.isUniqueViolation {
                    throw StoreError.conflict(field: "phone", message: "another contact already has this phone number")
                }
                for (phone, key) in updated {
                    keys[phone] = key
                    if round > 0 || earlier.contains(phone) { p.duplicateRows += 1 } else { p.merged += 1 }
                }
                guard keys.count == batch.count else {
                    throw StoreError.conflict(field: "phone", message: "the contact with this phone number could not be written")
                }
            }
            let tags = batch.flatMap { row in (row.changes.tags ?? []).map { PostgresTag(contact_id: keys[row.changes.phone ?? ""] ?? 0, tag: $0) } }
            if !tags.isEmpty {
                try await c.execute("""
                    INSERT INTO contact_tags (org_id, contact_id, tag)
                    SELECT ?, t.contact_id, t.tag FROM jsonb_to_recordset(?::jsonb) AS t(contact_id bigint, tag text)
                    ORDER BY t.contact_id, t.tag
                    ON CONFLICT DO NOTHING
                    """, [.int(org), try json(tags)])
            }
            if let listKey {
                try await c.execute("""
                    INSERT INTO list_members (list_id, contact_id, org_id, added_at)
                    SELECT ?, m.contact_id::bigint, ?, ? FROM jsonb_array_elements_text(?::jsonb) AS m(contact_id)
                    ORDER BY 2
                    ON CONFLICT DO NOTHING
                    """, [.int(listKey), .int(org), .int(now), try json(Array(keys.values))])
            }
        }
    }

    /// Time-ordered UUID strings (version 7, RFC 9562, lowercase like `IDs.make()`): a 48-bit
    /// millisecond timestamp, a 26-bit counter that starts at a random value and counts up within
    /// the batch, and 48 random bits from SQLite's in-process generator (seeded from the OS;
    /// `UUID()` reads `/dev/urandom` through open/read/close on Linux, which costs more than
    /// writing the whole row). Ordered ids append to the `uuid` unique index instead of landing
    /// on a random page of it for every new contact: with a million contacts the random version
    /// 4 ids made the import wait on page reads.
    static func randomUUIDs(_ count: Int) -> UUIDStrings {
        var bytes = [UInt8](repeating: 0, count: 4 + max(1, count) * 6)
        bytes.withUnsafeMutableBytes { sqlite3_randomness(Int32($0.count), $0.baseAddress) }
        let start = (UInt32(bytes[0]) << 16 | UInt32(bytes[1]) << 8 | UInt32(bytes[2])) & 0x1FFFFF
        return UUIDStrings(millis: UInt64(max(0, Clock.nowMillis())), counter: start, random: Array(bytes[4...]))
    }

    struct UUIDStrings {
        let millis: UInt64
        /// Counts up per id; 26 bits are written (rand_a and the top of rand_b, RFC 9562 §6.2 method 1).
        var counter: UInt32
        let random: [UInt8]
        var index = 0
        static let hex = Array("0123456789abcdef".utf8)

        mutating func next() -> String {
            var b = [UInt8](repeating: 0, count: 16)
            for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: millis >> (40 - 8 * UInt64(i))) }
            let n = counter & 0x3FF_FFFF
            counter &+= 1
            b[6] = 0x70 | UInt8(truncatingIfNeeded: n >> 22)
            b[7] = UInt8(truncatingIfNeeded: n >> 14)
            b[8] = 0x80 | UInt8(truncatingIfNeeded: (n >> 8) & 0x3F)
            b[9] = UInt8(truncatingIfNeeded: n)
            let r = (index % (random.count / 6)) * 6
            index += 1
            for i in 0..<6 { b[10 + i] = random[r + i] }
            var out = [UInt8]()
            out.reserveCapacity(36)
            for (i, byte) in b.enumerated() {
                if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
                out.append(Self.hex[Int(byte >> 4)])
                out.append(Self.hex[Int(byte & 0x0F)])
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

    /// Rows an import must write before `refreshStatistics` analyzes the contact tables.
    public static let analyzeAfterRows: Int64 = 10_000

    /// Brings PostgreSQL's planner statistics up to date after an import wrote `rows` contacts:
    /// until autovacuum's next `ANALYZE` (up to a minute or more after a load), the planner
    /// takes every organization's contacts for a tiny table and picks scans over the indexes
    /// for the contact lists and segments that follow. Samples at most 30,000 rows per table
    /// (about a second at a million contacts). Nothing on SQLite, whose plans do not use
    /// statistics Herald keeps.
    public func refreshStatistics(afterWriting rows: Int64) async throws {
        guard db is PostgresDatabase, rows >= Self.analyzeAfterRows else { return }
        _ = try await db.transaction { c in try await c.execute("ANALYZE contacts, contact_tags, list_members", []) }
    }

    /// The key of a list of this organization, for `listId`.
    public func listKey(_ scope: OrganizationScope, id: String) async throws -> Int64? {
        try await ListStore(db: db).keys(scope, ids: [id]).found.first
    }
}
