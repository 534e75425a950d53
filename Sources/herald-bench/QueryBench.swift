import ArgumentParser
import CSQLite
import Foundation
import HeraldCore
import HeraldStore

/// `herald-bench query`: fills a SQLite database with contacts through a bulk path, then times
/// `ContactStore.list` (what `GET /api/contacts` runs) per filter kind.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query", abstract: "Contact list query latency.")

    @Option(name: .long, help: "Contacts to fill.")
    var contacts: Int = 1_000_000

    @Option(name: .long, help: "Timed queries per kind and variant.")
    var iterations: Int = 200

    @Option(name: .long, help: "Database file (reused when it exists with the same size, unless --fresh).")
    var database: String = (NSTemporaryDirectory() as NSString).appendingPathComponent("herald-bench-query.sqlite")

    @Flag(name: .long, help: "Rebuild the database even if one exists.")
    var fresh = false

    @Flag(name: .long, help: "Print EXPLAIN QUERY PLAN of each kind.")
    var explain = false

    @Option(name: .long, help: "Only these kinds (repeatable): all, tagsAny, tagsAll, state, search, segment.")
    var kind: [String] = []

    @Option(name: .long, help: "Print the filters of the N slowest queries of each kind and variant.")
    var slowest: Int = 0

    @Option(name: .long, help: "Untimed queries per kind and variant before the timed ones (other filters of the same kind).")
    var warmup: Int = 10

    func run() async throws {
        let marker = database + ".contacts"
        let existing = (try? String(contentsOfFile: marker, encoding: .utf8)).flatMap { Int($0) }
        if fresh || existing != contacts {
            removeDatabase(database)
            let t0 = now()
            try await fill()
            try String(contacts).write(toFile: marker, atomically: true, encoding: .utf8)
            print("filled \(contacts) contacts in \(fmt(now() - t0))s")
        }
        let db = try SQLiteDatabase(path: database)
        let storage = Storage(db: db)
        let t1 = now()
        try await storage.contacts.syncSearchIndex()
        print("search index sync (what the first search after a bulk fill or import pays): \(fmt(now() - t1))s")
        guard let scope = try await db.read({ c in try await c.queryOne("SELECT id, uuid FROM organizations", []) })
            .map({ OrganizationScope(key: $0.int(0), id: $0.text(1)) }) else { throw BenchError("no organization") }
        var rng = SplitMix64(seed: 7)
        print("kind        variant        p50 ms   p95 ms   max ms   (avg rows, avg total)")
        for kind in Kind.allCases where self.kind.isEmpty || self.kind.contains(kind.rawValue) {
            for variant in Variant.allCases {
                var samples: [Double] = []
                var timed: [(ms: Double, query: String)] = []
                var rows = 0
                var totals: Int64 = 0
                // Warm-up with filters drawn from their own generator, so that the timed
                // filters are the same with or without it: this VM's memory reclaimer
                // (kdamond) drops page-cache pages that were idle for a few seconds, which a
                // busy server's hot pages are not.
                var warmRng = SplitMix64(seed: 8)
                for _ in 0..<warmup {
                    var q = kind.query(&warmRng)
                    q.includeTotal = variant == .firstPageTotal
                    _ = try await storage.contacts.list(scope, q)
                }
                for _ in 0..<iterations {
                    var q = kind.query(&rng)
                    q.includeTotal = variant == .firstPageTotal
                    if variant == .page5 {
                        for _ in 0..<4 {
                            let page = try await storage.contacts.list(scope, q)
                            guard let last = page.contacts.last else { break }
                            q.after = ContactListQuery.Position(sortValue: last.updatedAt, key: last.key)
                        }
                    }
                    let t0 = now()
                    let result = try await storage.contacts.list(scope, q)
                    samples.append((now() - t0) * 1000)
                    if slowest > 0 { timed.append((samples[samples.count - 1], Self.describe(q))) }
                    rows += result.contacts.count
                    totals += result.total ?? 0
                }
                let s = Stats(samples)
                let pad = { (x: String, n: Int) in x.padding(toLength: n, withPad: " ", startingAt: 0) }
                let avgTotal = variant == .firstPageTotal ? fmt(Double(totals) / Double(iterations), 0) : "-"
                print("\(pad(kind.rawValue, 12))\(pad(variant.rawValue, 14))\(pad(fmt(s.p50, 2), 9))\(pad(fmt(s.p95, 2), 9))\(pad(fmt(s.max, 2), 9))(\(fmt(Double(rows) / Double(iterations), 0)), \(avgTotal))\(s.p95 < 50 ? "" : "  <-- p95 over 50 ms")")
                for (ms, query) in timed.sorted(by: { $0.ms > $1.ms }).prefix(slowest) {
                    print("    \(fmt(ms, 1)) ms: \(query)")
                }
            }
            if explain {
                let q = kind.query(&rng)
                for line in try await storage.contacts.explain(scope, q) { print("    plan: \(line)") }
            }
        }
        await db.close()
    }

    /// The filters of a query, for `--slowest`.
    static func describe(_ q: ContactListQuery) -> String {
        var parts: [String] = []
        if let search = q.search { parts.append("search=\"\(search)\"") }
        if !q.tags.isEmpty { parts.append("tags=\(q.tags)\(q.tagsMatchAll ? " (all)" : " (any)")") }
        if !q.states.isEmpty { parts.append("states=\(q.states)") }
        if q.filter != nil { parts.append("filter tags=\(q.filterTags) sql=\(q.filter!.sql) binds=\(q.filter!.binds)") }
        if let after = q.after { parts.append("after=(\(after.sortValue), \(after.key))") }
        return parts.joined(separator: " ")
    }

    enum Variant: String, CaseIterable {
        case firstPage = "page1"
        case firstPageTotal = "page1+total"
        case page5 = "page5(cursor)"
    }

    enum Kind: String, CaseIterable {
        case all, tagsAny, tagsAll, state, search, segment

        func query(_ rng: inout SplitMix64) -> ContactListQuery {
            var q = ContactListQuery()
            let tag = { (rng: inout SplitMix64) in DataGenerator.tags[rng.skewed(DataGenerator.tagWeights)] }
            switch self {
            case .all: break
            case .tagsAny: q.tags = [tag(&rng), tag(&rng)]
            case .tagsAll:
                q.tags = [tag(&rng), tag(&rng)]
                q.tagsMatchAll = true
            case .state: q.states = [DataGenerator.states[rng.skewed(DataGenerator.stateWeights)]]
            case .search:
                switch rng.below(4) {
                case 0: q.search = String(DataGenerator.firstNames[rng.below(DataGenerator.firstNames.count)].prefix(4)).lowercased()
                case 1: q.search = String(DataGenerator.lastNames[rng.below(DataGenerator.lastNames.count)].prefix(6))
                case 2:
                    let f = DataGenerator.firstNames[rng.below(80)].lowercased()
                    let l = DataGenerator.lastNames[rng.below(DataGenerator.lastNames.count)].lowercased()
                    q.search = "\(f).\(l.prefix(3))"
                default:
                    q.search = "\(DataGenerator.areaCodes[rng.below(DataGenerator.areaCodes.count)]) \(201 + rng.below(700))"
                }
            case .segment:
                var f = ContactFilter()
                f.tags = [tag(&rng)]
                f.excludeTags = [tag(&rng)]
                f.states = [DataGenerator.states[rng.skewed(DataGenerator.stateWeights)], DataGenerator.states[rng.skewed(DataGenerator.stateWeights)]]
                q.apply(f, dialect: .sqlite)
            }
            return q
        }
    }

    /// Bulk fill: one transaction, prepared statements bound directly.
    func fill() async throws {
        let db = try SQLiteDatabase(path: database)
        try await Migrator(database: db).migrate()
        let org = try await Storage(db: db).organizations.create(name: "Bench")
        try await db.withWriter { c in
            try c.run("BEGIN")
            let insert = try c.prepare("""
                INSERT INTO contacts (uuid, org_id, phone, first_name, last_name, email, city, state, zip, custom_fields, is_textable, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                """)
            let tagInsert = try c.prepare("INSERT INTO contact_tags (org_id, contact_id, tag) VALUES (?, ?, ?)")
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            func bind(_ stmt: OpaquePointer, _ i: Int32, _ s: String) {
                var s = s
                s.withUTF8 { b in _ = b.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(stmt, i, $0.baseAddress, Int32(b.count), transient) } }
            }
            var gen = DataGenerator(seed: 99)
            let start = Clock.nowMillis() - 400 * 86_400_000
            for i in 0..<contacts {
                let p = gen.person(i)
                let area = DataGenerator.areaCodes[i % DataGenerator.areaCodes.count]
                let rest = i / DataGenerator.areaCodes.count
                let phone = "+1\(area)\(201 + (rest / 10000) % 790)\(String(format: "%04d", rest % 10000))"
                let created = start + Int64(i) * 30_000
                let updated = created + Int64(gen.rng.below(30 * 86_400)) * 1000
                bind(insert, 1, UUID().uuidString.lowercased())
                sqlite3_bind_int64(insert, 2, org.key)
                bind(insert, 3, phone)
                bind(insert, 4, p.first)
                bind(insert, 5, p.last)
                bind(insert, 6, p.email)
                bind(insert, 7, p.city)
                bind(insert, 8, p.state)
                bind(insert, 9, p.zip)
                bind(insert, 10, "{\"loyaltyTier\":\"\(p.tier)\"}")
                sqlite3_bind_int64(insert, 11, created)
                sqlite3_bind_int64(insert, 12, updated)
                guard sqlite3_step(insert) == SQLITE_DONE else { throw BenchError("fill insert failed") }
                sqlite3_reset(insert)
                let key = c.lastInsertRowID
                for t in p.tags {
                    sqlite3_bind_int64(tagInsert, 1, org.key)
                    sqlite3_bind_int64(tagInsert, 2, key)
                    bind(tagInsert, 3, t)
                    guard sqlite3_step(tagInsert) == SQLITE_DONE else { throw BenchError("fill tag failed") }
                    sqlite3_reset(tagInsert)
                }
            }
            try c.run("COMMIT")
        }
        await db.close()
    }
}
