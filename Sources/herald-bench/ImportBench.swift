import ArgumentParser
import CSQLite
import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore

/// `herald-bench import`: generates a CSV per size, then in separate child processes imports it
/// through `ImportService` and writes the same rows three ways for reference (`raw`: one table
/// with the unique phone index, the ratio's baseline; `bare`: no index and no journal; `schema`:
/// straight into Herald's schema, the ceiling of any importer that keeps its indexes), verifies
/// exact counts and prints rows/s, wall time and peak RSS.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "CSV import throughput and peak memory.")

    @Option(name: .long, help: "Data rows per file; repeat for several sizes (e.g. --rows 100000 --rows 1000000).")
    var rows: [Int] = [100_000]

    @Option(name: .long, help: "Runs per size (each in a fresh process and database).")
    var repeats: Int = 1

    @Option(name: .long, help: "Scratch directory.")
    var dir: String = NSTemporaryDirectory()

    @Flag(name: .long, help: "Also measure what each part of Herald's schema costs (the contact table with its unique keys, then each secondary index, then the tag rows, then with shuffled phones).")
    var ladder = false

    @Option(name: .long, help: "Also import each file into PostgreSQL (a scratch database created and dropped on this server), e.g. postgres://postgres@127.0.0.1:55432/postgres.")
    var postgres: String?

    func run() async throws {
        var peaks: [Int: [Int]] = [:]
        for n in rows {
            let csv = (dir as NSString).appendingPathComponent("herald-bench-\(n).csv")
            let seed = csv + ".seed"
            let t0 = now()
            let file = try ImportFile.write(rows: n, path: csv, seedPath: seed)
            let size = (try? FileManager.default.attributesOfItem(atPath: csv)[.size] as? Int) ?? 0
            print("== import \(n) rows: CSV \(mib(size)) generated in \(fmt(now() - t0))s; expected created \(file.created), merged \(file.merged), invalid \(file.invalid), duplicateRows \(file.duplicates)")
            defer { try? FileManager.default.removeItem(atPath: csv); try? FileManager.default.removeItem(atPath: seed) }
            for r in 1...max(1, repeats) {
                let herald = try parse(try runSelf(["import-run", "--mode", "herald", "--csv", csv, "--dir", dir]))
                let raw = try parse(try runSelf(["import-run", "--mode", "raw", "--csv", csv, "--dir", dir]))
                let schema = try parse(try runSelf(["import-run", "--mode", "schema", "--csv", csv, "--dir", dir]))
                let bare = try parse(try runSelf(["import-run", "--mode", "bare", "--csv", csv, "--dir", dir]))
                let expected = ["created": file.created, "merged": file.merged, "invalid": file.invalid,
                                "duplicateRows": file.duplicates, "totalRows": file.total,
                                "contacts": file.created + file.merged]
                for (k, v) in expected where herald[k].map({ Int($0) }) != v {
                    throw BenchError("run \(r): \(k) is \(herald[k] ?? -1), expected \(v)")
                }
                let heraldRate = Double(n) / herald["seconds"]!
                let rawRate = raw["rows"]! / raw["seconds"]!
                let schemaRate = schema["rows"]! / schema["seconds"]!
                let bareRate = bare["rows"]! / bare["seconds"]!
                peaks[n, default: []].append(Int(herald["peakRSS"]!))
                print("run \(r): herald \(fmt(heraldRate, 0)) rows/s (\(fmt(herald["seconds"]!, 2))s wall, peak RSS \(mib(Int(herald["peakRSS"]!)))) | raw SQLite \(fmt(rawRate, 0)) rows/s (\(fmt(raw["seconds"]!, 2))s) | ratio herald/raw \(fmt(heraldRate / rawRate, 2)) | counts verified")
                print("run \(r): bare SQLite (no index, no journal) \(fmt(bareRate, 0)) rows/s (\(fmt(bare["seconds"]!, 2))s) | herald/bare \(fmt(heraldRate / bareRate, 2))")
                print("run \(r): Herald's schema written raw \(fmt(schemaRate, 0)) rows/s (\(fmt(schema["seconds"]!, 2))s) = \(fmt(schemaRate / rawRate, 2))x raw | herald / schema ceiling \(fmt(heraldRate / schemaRate, 2))")
                if ladder {
                    try printLadder(try runSelf(["import-run", "--mode", "ladder", "--csv", csv, "--dir", dir]))
                }
                if let postgres {
                    let pg = try parse(try runSelf(["import-run", "--mode", "herald", "--csv", csv, "--dir", dir, "--postgres", postgres]))
                    for (k, v) in expected where pg[k].map({ Int($0) }) != v {
                        throw BenchError("run \(r) on PostgreSQL: \(k) is \(pg[k] ?? -1), expected \(v)")
                    }
                    print("run \(r): herald on PostgreSQL \(fmt(Double(n) / pg["seconds"]!, 0)) rows/s (\(fmt(pg["seconds"]!, 2))s wall, peak RSS \(mib(Int(pg["peakRSS"]!)))) | counts verified")
                }
            }
        }
        if peaks.count >= 2, let small = peaks.keys.min(), let big = peaks.keys.max(),
           let s = peaks[small]?.max(), let b = peaks[big]?.max() {
            print("peak RSS \(big) rows / \(small) rows: \(mib(b)) / \(mib(s)) = \(fmt(Double(b) / Double(s), 2))x")
        }
    }

    /// Prints the ladder's rungs: rows/s, microseconds per row and what the rung added.
    func printLadder(_ output: String) throws {
        let result = try parse(output)
        let names = output.split(separator: "\n").filter { $0.hasPrefix("ladder ") }.map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        guard let n = result["rows"], let count = result["steps"].map(Int.init), names.count == count else { throw BenchError("unexpected ladder output: \(output)") }
        var previous: Double?
        for i in 0..<count {
            guard let seconds = result["step\(i)"] else { throw BenchError("ladder step \(i) missing") }
            let micros = seconds / n * 1_000_000
            let delta = previous.map { " (\($0 <= micros ? "+" : "")\(fmt(micros - $0, 2)) µs)" } ?? ""
            print("ladder: \(names[i]): \(fmt(n / seconds, 0)) rows/s, \(fmt(micros, 2)) µs/row\(delta)")
            previous = micros
        }
    }

    func parse(_ output: String) throws -> [String: Double] {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double] else {
            throw BenchError("unexpected child output: \(output)")
        }
        return object
    }
}

/// One measured import in this process; prints a JSON object of results.
struct ImportRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import-run", abstract: "(internal) one measured import.", shouldDisplay: false)

    @Option var mode: String
    @Option var csv: String
    @Option var dir: String
    @Option var postgres: String?

    func run() async throws {
        let path = (dir as NSString).appendingPathComponent("herald-bench-\(mode)-\(getpid()).sqlite")
        removeDatabase(path)
        defer { removeDatabase(path) }
        let result: [String: Double]
        if mode == "raw" {
            result = try rawInsert(path)
        } else if mode == "bare" {
            result = try rawInsert(path, bare: true)
        } else if mode == "schema" {
            result = try await schemaInsert(path)
        } else if mode == "ladder" {
            result = try await ladder(path)
        } else if let postgres {
            result = try await postgresImport(postgres, upload: path + ".upload.csv")
        } else {
            let db = try SQLiteDatabase(path: path)
            result = try await heraldImport(db, upload: path + ".upload.csv")
        }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    /// `heraldImport` into a scratch database on the PostgreSQL server of `url`, dropped afterwards.
    func postgresImport(_ url: String, upload: String) async throws -> [String: Double] {
        let admin = try PostgresDatabase(url: url, maxConnections: 1)
        let name = "herald_bench_\(getpid())"
        var components = URLComponents(string: url)
        components?.path = "/" + name
        guard let scratchURL = components?.string else { throw BenchError("bad PostgreSQL URL") }
        return try await withRunning(admin) {
            _ = try await admin.read { try await $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) }
            _ = try await admin.read { try await $0.execute("CREATE DATABASE \(name)", []) }
            let result: Result<[String: Double], any Error>
            do {
                let db = try PostgresDatabase(url: scratchURL, maxConnections: 2)
                result = .success(try await withRunning(db) { try await heraldImport(db, upload: upload) })
            } catch {
                result = .failure(error)
            }
            _ = try? await admin.read { try await $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) }
            return try result.get()
        }
    }

    /// Runs `body` while the PostgreSQL pool of `db` runs beside it, then stops the pool.
    func withRunning<T: Sendable>(_ db: PostgresDatabase, _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await db.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    func heraldImport(_ db: any SQLDatabase, upload: String) async throws -> [String: Double] {
        try await Migrator(database: db).migrate()
        let storage = Storage(db: db)
        let org = try await storage.organizations.create(name: "Bench")
        let scope = OrganizationScope(key: org.key, id: org.id)
        // Contacts that exist before the import (their rows merge).
        let seeds = try String(contentsOfFile: csv + ".seed", encoding: .utf8).split(separator: "\n")
        for phone in seeds {
            var ch = ContactChanges()
            ch.phone = String(phone)
            ch.firstName = .set("Existing")
            ch.tags = ["existing"]
            _ = try await storage.contacts.upsert(scope, ch)
        }
        // The service deletes its file when done: give it a hard link.
        try? FileManager.default.removeItem(atPath: upload)
        guard link(csv, upload) == 0 else { throw BenchError("cannot link \(csv)") }
        let job = try await storage.imports.create(scope, options: .init(tags: ["imported"], listId: nil, defaultCountry: "US"), filePath: upload)
        let t0 = now()
        try await ImportService(storage: storage).processPending()
        let seconds = now() - t0
        let peak = peakRSSBytes()
        let done = try await storage.imports.get(scope, id: job.id)
        guard done.status == .completed else { throw BenchError("import ended \(done.status): \(done.failureReason ?? "")") }
        let contacts = try await storage.contacts.count(scope, ContactListQuery())
        await db.close()
        return ["seconds": seconds, "peakRSS": Double(peak), "created": Double(done.created), "merged": Double(done.merged),
                "invalid": Double(done.invalid), "duplicateRows": Double(done.duplicateRows), "totalRows": Double(done.totalRows),
                "contacts": Double(contacts), "storedErrors": Double(done.errors.count)]
    }

    /// The data rows of the CSV split into fields (naively: the generated file quotes only the
    /// phone and holds no commas inside fields), read whole: the baselines time only their
    /// inserts.
    func csvRows() throws -> [[Substring]] {
        try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    }

    /// The structural ceiling: the same rows (split, tags listed and phones reduced to `+1` and
    /// their digits beforehand, untimed) written with prepared statements in one transaction into
    /// Herald's own migrated schema: the contact row with all its indexes and one `contact_tags`
    /// row per tag plus the import's `imported` tag, as the importer writes them, but with no
    /// parsing, validation, normalization, merging or progress. What remains above this line in
    /// the importer's time is Herald's own work.
    func schemaInsert(_ path: String) async throws -> [String: Double] {
        let rows = try schemaRows()
        let result = try await schemaWrite(path, rows: rows, step: .init(name: "schema", dropping: [], tags: true, batch: nil))
        return result.merging(["peakRSS": Double(peakRSSBytes())]) { $1 }
    }

    /// One rung of `ladder`: Herald's schema with some secondary indexes dropped, with or without
    /// the tag rows, in one transaction or in transactions of `batch` rows (as the importer).
    struct LadderStep {
        var name: String
        var dropping: [String]
        var tags: Bool
        var batch: Int?
        var shuffledPhones = false
    }

    /// The secondary contact indexes, in the order the ladder adds them back.
    static let secondaryIndexes = ["contacts_org_updated", "contacts_org_created", "contacts_org_state", "contacts_org_zip"]

    /// What each part of the schema costs an import: the same rows written like `schemaInsert`,
    /// in 10,000-row transactions like the importer, first into the contact table with only its
    /// two unique keys (phone, uuid), then adding back one secondary index at a time, then the tag
    /// rows (= the full schema), then once more with the rows' phones in a random order (the
    /// generated file's phones come in a few hundred ascending runs, one per area code, which is
    /// kinder to the phone index than most real lists). Each rung in a fresh database.
    func ladder(_ path: String) async throws -> [String: Double] {
        let rows = try schemaRows()
        let all = Self.secondaryIndexes
        var steps = [LadderStep(name: "unique keys only", dropping: all, tags: false, batch: 10_000)]
        for k in 1...all.count {
            steps.append(LadderStep(name: "+ " + all[k - 1], dropping: Array(all[k...]), tags: false, batch: 10_000))
        }
        steps.append(LadderStep(name: "+ tag rows (full schema)", dropping: [], tags: true, batch: 10_000))
        steps.append(LadderStep(name: "full schema, phones shuffled", dropping: [], tags: true, batch: 10_000, shuffledPhones: true))
        var result: [String: Double] = ["rows": Double(rows.count), "steps": Double(steps.count)]
        for (i, step) in steps.enumerated() {
            removeDatabase(path)
            let r = try await schemaWrite(path, rows: rows, step: step)
            result["step\(i)"] = r["seconds"]
            print("ladder \(i): \(step.name)")
        }
        removeDatabase(path)
        return result
    }

    /// The CSV's rows as `schemaWrite` takes them: uuid, E.164-like phone, six fields, custom
    /// fields JSON; and the tags plus `imported`.
    func schemaRows() throws -> [(fields: [String], tags: [String])] {
        var rows: [(fields: [String], tags: [String])] = []
        for r in try csvRows() where r.count >= 9 {
            let phone = "+" + (r[0].unicodeScalars.contains { $0 == "+" } ? "" : "1") + String(r[0].filter(\.isNumber))
            rows.append(([String(format: "%036d", rows.count), phone, String(r[1]), String(r[2]), String(r[3]), String(r[4]),
                          String(r[5]), String(r[6]), "{\"loyaltyTier\":\"\(r[8])\"}"],
                         r[7].split(separator: ";").map(String.init) + ["imported"]))
        }
        return rows
    }

    func schemaWrite(_ path: String, rows input: [(fields: [String], tags: [String])], step: LadderStep) async throws -> [String: Double] {
        let db = try SQLiteDatabase(path: path)
        try await Migrator(database: db).migrate()
        let org = try await Storage(db: db).organizations.create(name: "Bench")
        await db.close()
        var rows = input
        if step.shuffledPhones {
            // The same phones (so the same duplicates), each row given another row's phone.
            var rng = SplitMix64(seed: 7)
            var phones = rows.map { $0.fields[1] }
            phones.shuffle(using: &rng)
            for i in rows.indices { rows[i].fields[1] = phones[i] }
        }
        let c = try SQLiteConnection(path: path)
        defer { c.close() }
        for index in step.dropping { try c.run("DROP INDEX \(index)") }
        let t0 = now()
        try c.run("BEGIN")
        let insert = try c.statement("""
            INSERT INTO contacts (uuid, org_id, phone, first_name, last_name, email, city, state, zip, custom_fields, is_textable, last_import_id, created_at, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, 1, ?11, ?11)
            ON CONFLICT (org_id, phone) DO NOTHING
            """)
        let tag = try c.statement("INSERT INTO contact_tags (org_id, contact_id, tag) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
        let stamp = Clock.nowMillis()
        var written = 0
        for (i, row) in rows.enumerated() {
            if let batch = step.batch, i > 0, i % batch == 0 {
                try c.run("COMMIT")
                try c.run("BEGIN")
            }
            insert.bind(1, row.fields[0])
            insert.bind(2, org.key)
            for k in 1..<row.fields.count { insert.bind(Int32(k + 2), row.fields[k]) }
            insert.bind(11, stamp)
            try insert.step()
            insert.reset()
            guard c.changes == 1 else { continue }
            written += 1
            guard step.tags else { continue }
            let key = c.lastInsertRowID
            for t in row.tags {
                tag.bind(1, org.key)
                tag.bind(2, key)
                tag.bind(3, t)
                try tag.step()
                tag.reset()
            }
        }
        try c.run("COMMIT")
        let seconds = now() - t0
        return ["seconds": seconds, "rows": Double(rows.count), "written": Double(written)]
    }

    /// The baseline: the same rows (split untimed beforehand) inserted with one prepared
    /// statement in one transaction into a table of the same shape with the same unique
    /// (org_id, phone) index. `bare` is the fastest SQLite can store them, the issue's
    /// "raw insert from Python's C driver" reference: no index at all, no journal, no syncs.
    func rawInsert(_ path: String, bare: Bool = false) throws -> [String: Double] {
        let rows = try csvRows()
        let c = try SQLiteConnection(path: path)
        defer { c.close() }
        try c.run("""
            CREATE TABLE contacts (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, org_id BIGINT NOT NULL, phone TEXT NOT NULL,
              first_name TEXT, last_name TEXT, email TEXT, city TEXT, state TEXT, zip TEXT, timezone TEXT,
              custom_fields TEXT NOT NULL DEFAULT '{}', opted_out_at BIGINT, is_textable INTEGER NOT NULL DEFAULT 1,
              last_import_id BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
            """)
        if bare {
            try c.run("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF")
        } else {
            try c.run("CREATE UNIQUE INDEX contacts_org_phone ON contacts (org_id, phone)")
        }
        let t0 = now()
        try c.run("BEGIN")
        let stmt = try c.prepare("""
            INSERT OR IGNORE INTO contacts (uuid, org_id, phone, first_name, last_name, email, city, state, zip, custom_fields, created_at, updated_at)
            VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var uuid = 0
        for r in rows where r.count >= 9 {
            uuid += 1
            var fields = ["\(uuid)", String(r[0]), String(r[1]), String(r[2]), String(r[3]), String(r[4]), String(r[5]), String(r[6]), "{\"loyaltyTier\":\"\(r[8])\"}"]
            for i in fields.indices {
                fields[i].withUTF8 { b in
                    _ = b.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(stmt, Int32(i + 1), $0.baseAddress, Int32(b.count), transient) }
                }
            }
            sqlite3_bind_int64(stmt, 10, 1)
            sqlite3_bind_int64(stmt, 11, 1)
            guard sqlite3_step(stmt) == SQLITE_DONE else { throw BenchError("raw insert failed") }
            sqlite3_reset(stmt)
        }
        try c.run("COMMIT")
        let seconds = now() - t0
        return ["seconds": seconds, "rows": Double(rows.count), "peakRSS": Double(peakRSSBytes())]
    }
}
