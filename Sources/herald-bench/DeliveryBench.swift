import ArgumentParser
import CSQLite
import Foundation
import HeraldCore
import HeraldEngine
import HeraldProviders
import HeraldStore

/// Shared setup of the delivery benchmarks: a fresh SQLite database with one organization, a
/// simulator sender and `recipients` contacts written through a raw bulk insert.
struct DeliveryBenchSetup {
    let db: SQLiteDatabase
    let storage: Storage
    let scope: OrganizationScope
    let organization: Organization
    let path: String

    /// Noon in New York on a weekday (outside quiet hours).
    static let noon = ISO8601DateFormatter().date(from: "2026-11-24T17:00:00Z")!

    static func make(dir: String, name: String, recipients: Int, maxPerSecond: Double = 1e9) async throws -> DeliveryBenchSetup {
        let path = (dir as NSString).appendingPathComponent("herald-bench-\(name)-\(getpid()).sqlite")
        removeDatabase(path)
        let db = try SQLiteDatabase(path: path)
        try await Migrator(database: db).migrate()
        let storage = Storage(db: db)
        let org = try await storage.organizations.create(name: "Bench", timezone: "America/New_York", defaultCountry: "US", billingMode: .unlimited)
        let scope = OrganizationScope(key: org.key, id: org.id)
        _ = try await storage.senders.create(scope, SenderStore.Input(channel: .text, address: "+12025550100", type: .longCode, label: nil,
                                                                      provider: "simulator", isDefault: true, maxPerSecond: maxPerSecond))
        let t0 = now()
        try await fillContacts(db, orgKey: org.key, count: recipients)
        print("filled \(recipients) contacts (raw bulk insert) in \(fmt(now() - t0, 2))s")
        return DeliveryBenchSetup(db: db, storage: storage, scope: scope, organization: org, path: path)
    }

    /// One transaction, one prepared statement. Phones +1 212 EEE LLLL with LLLL in 1000...9999,
    /// so no phone hits the simulator's rule suffixes (000x).
    static func fillContacts(_ db: SQLiteDatabase, orgKey: Int64, count: Int) async throws {
        try await db.withWriter { c in
            try c.run("BEGIN")
            let insert = try c.prepare("""
                INSERT INTO contacts (uuid, org_id, phone, first_name, last_name, city, state, custom_fields, is_textable, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, '{}', 1, ?, ?)
                """)
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            func bind(_ i: Int32, _ s: String) {
                var s = s
                s.withUTF8 { b in _ = b.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(insert, i, $0.baseAddress, Int32(b.count), transient) } }
            }
            var uuids = [UInt8](repeating: 0, count: 16)
            let hex = Array("0123456789abcdef".utf8)
            let stamp = Clock.nowMillis()
            for i in 0..<count {
                uuids.withUnsafeMutableBytes { sqlite3_randomness(16, $0.baseAddress) }
                bind(1, String(decoding: uuids.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self))
                sqlite3_bind_int64(insert, 2, orgKey)
                bind(3, "+1212\(200 + i / 9000)\(1000 + i % 9000)")
                bind(4, DataGenerator.firstNames[i % DataGenerator.firstNames.count])
                bind(5, DataGenerator.lastNames[i % DataGenerator.lastNames.count])
                bind(6, DataGenerator.cities[i % DataGenerator.cities.count])
                bind(7, DataGenerator.states[i % DataGenerator.states.count])
                sqlite3_bind_int64(insert, 8, stamp)
                sqlite3_bind_int64(insert, 9, stamp)
                guard sqlite3_step(insert) == SQLITE_DONE else { throw BenchError("contact fill failed") }
                sqlite3_reset(insert)
            }
            try c.run("COMMIT")
        }
    }

    func campaign(message: String) async throws -> CampaignRecord {
        var fields = CampaignFields()
        fields.name = "Bench"
        fields.message = message
        fields.contactFilter = .object([:])
        return try await storage.campaigns.create(scope, fields: fields, status: .pending)
    }

    func close() async {
        await db.close()
        removeDatabase(path)
    }
}

/// `herald-bench fanout`: times admission + `DeliveryStore.fanOut` of a campaign to every
/// contact, against a raw `INSERT … SELECT` of the same shape into a copy of `campaign_messages`.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fanout", abstract: "Campaign fan-out (recipient rows) time.")

    @Option(name: .long, help: "Contacts in the audience.")
    var recipients: Int = 1_000_000

    @Option(name: .long, help: "Scratch directory.")
    var dir: String = NSTemporaryDirectory()

    func run() async throws {
        let s = try await DeliveryBenchSetup.make(dir: dir, name: "fanout", recipients: recipients)
        let record = try await s.campaign(message: "Hi {{firstName}}!")
        let nowMillis = Int64(DeliveryBenchSetup.noon.timeIntervalSince1970 * 1000)
        let t0 = now()
        let admitted = try await s.storage.delivery.admit(maxRunning: 10, now: nowMillis)
        guard let work = admitted.first(where: { $0.id == record.id }) else { throw BenchError("campaign not admitted") }
        let counts = try await s.storage.delivery.fanOut(work, audience: .filter(ContactFilter()), now: nowMillis)
        let heraldSeconds = now() - t0
        guard counts.queued == Int64(recipients) else { throw BenchError("queued \(counts.queued), expected \(recipients)") }
        // Baseline: the same INSERT … SELECT into a table created from campaign_messages' own DDL
        // (same columns, constraints and indexes).
        let rawSeconds = try await s.db.withWriter { c -> Double in
            let ddl = try c.querySync("SELECT sql FROM sqlite_master WHERE tbl_name = 'campaign_messages' AND sql IS NOT NULL ORDER BY type DESC")
            for row in ddl { try c.run(row.text(0).replacingOccurrences(of: "campaign_messages", with: "bench_scratch_messages")) }
            let t1 = now()
            try c.run("BEGIN IMMEDIATE")
            try c.executeSync("""
                INSERT INTO bench_scratch_messages (org_id, campaign_id, contact_id, phone, variant, status, error_code, created_at, updated_at)
                SELECT c.org_id, ?, c.id, c.phone, NULL, 'queued', NULL, ?, ?
                FROM contacts c WHERE c.org_id = ? AND c.opted_out_at IS NULL AND c.is_textable = 1
                ON CONFLICT (campaign_id, contact_id) DO NOTHING
                """, [.int(work.key), .int(nowMillis), .int(nowMillis), .int(s.scope.key)])
            try c.run("COMMIT")
            return now() - t1
        }
        print("fanout \(recipients) recipients: herald admit+fanOut \(fmt(heraldSeconds, 2))s | raw INSERT…SELECT \(fmt(rawSeconds, 2))s | ratio herald/raw \(fmt(heraldSeconds / rawSeconds, 2)) | queued \(counts.queued) verified\(heraldSeconds < 2 ? "" : "  <-- over the 2 s goal") | peak RSS \(mib(peakRSSBytes()))")
        await s.close()
    }
}

/// `herald-bench dispatch`: per audience size, in a child process of its own, fans a campaign
/// out, then dispatches it through the simulator (no latency, no cap) until the campaign's
/// `sent` counter reaches N; prints messages/s and the peak RSS of the dispatch itself
/// (VmHWM reset after the fill), and compares peaks across sizes.
struct DispatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dispatch", abstract: "Dispatcher throughput and memory with the simulator.")

    @Option(name: .long, help: "Contacts in the audience; repeat for several sizes (e.g. --recipients 100000 --recipients 1000000).")
    var recipients: [Int] = [200_000]

    @Option(name: .long, help: "Scratch directory.")
    var dir: String = NSTemporaryDirectory()

    @Option(name: .long, help: "service: the engine's own service loop (pipelined), as `herald serve` runs it; passes: `dispatchPass()` in a loop.")
    var mode: String = "service"

    @Option(name: .long, help: "A PostgreSQL server URL (postgres://user@host:port/db): run on a scratch database created there instead of SQLite.")
    var database: String?

    @Flag(name: .long, help: .hidden)
    var child = false

    func run() async throws {
        guard ["service", "passes"].contains(mode) else { throw BenchError("--mode is service or passes") }
        if child {
            guard let n = recipients.first else { return }
            let r = try await DispatchRun(recipients: n, dir: dir, mode: mode, database: database).run()
            print("{\"seconds\": \(r.seconds), \"peakRSS\": \(r.peakRSS)}")
            return
        }
        var peaks: [Int: Int] = [:]
        let engine = database == nil ? "SQLite" : "PostgreSQL"
        for n in recipients {
            var arguments = ["dispatch", "--child", "--recipients", String(n), "--dir", dir, "--mode", mode]
            if let database { arguments += ["--database", database] }
            let output = try runSelf(arguments)
            guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
                  let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double] else {
                throw BenchError("unexpected child output: \(output)")
            }
            let seconds = r["seconds"]!
            let rate = Double(n) / seconds
            peaks[n] = Int(r["peakRSS"]!)
            print("dispatch \(n) recipients (\(engine), \(mode)): \(fmt(rate, 0)) messages/s (\(fmt(seconds, 2))s), sent counter verified\(rate >= 50_000 ? "" : "  <-- under the 50,000/s goal") | peak RSS of the dispatch \(mib(peaks[n]!))")
        }
        if peaks.count >= 2, let small = peaks.keys.min(), let big = peaks.keys.max() {
            let ratio = Double(peaks[big]!) / Double(peaks[small]!)
            print("dispatch peak RSS \(big) / \(small) recipients: \(mib(peaks[big]!)) / \(mib(peaks[small]!)) = \(fmt(ratio, 2))x (goal <= 1.3x and < 300 MiB)")
        }
    }
}

/// One measured dispatch (the child process of `dispatch`).
struct DispatchRun {
    let recipients: Int
    let dir: String
    let mode: String
    let database: String?

    func run() async throws -> (seconds: Double, peakRSS: Int) {
        if let database { return try await runPostgres(database) }
        let s = try await DeliveryBenchSetup.make(dir: dir, name: "dispatch", recipients: recipients)
        do {
            let r = try await measure(storage: s.storage, scope: s.scope, simulatorPath: s.path + ".sim.sqlite")
            await s.close()
            return r
        } catch {
            await s.close()
            throw error
        }
    }

    /// A scratch database on the server of `url`, filled by one `INSERT … SELECT` over
    /// `generate_series`, dropped at the end.
    func runPostgres(_ url: String) async throws -> (seconds: Double, peakRSS: Int) {
        let name = "herald_bench_\(getpid())"
        let admin = try PostgresDatabase(url: url, maxConnections: 1)
        var components = URLComponents(string: url)!
        components.path = "/\(name)"
        let db = try PostgresDatabase(url: components.string!, maxConnections: 8)
        return try await withThrowingTaskGroup(of: (seconds: Double, peakRSS: Int)?.self) { group in
            group.addTask { await admin.run(); return nil }
            group.addTask { await db.run(); return nil }
            group.addTask {
                _ = try await admin.read { try await $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) }
                _ = try await admin.read { try await $0.execute("CREATE DATABASE \(name)", []) }
                let result: Result<(seconds: Double, peakRSS: Int), any Error>
                do {
                    try await Migrator(database: db).migrate()
                    let storage = Storage(db: db)
                    let org = try await storage.organizations.create(name: "Bench", timezone: "America/New_York", defaultCountry: "US", billingMode: .unlimited)
                    let scope = OrganizationScope(key: org.key, id: org.id)
                    _ = try await storage.senders.create(scope, SenderStore.Input(channel: .text, address: "+12025550100", type: .longCode, label: nil,
                                                                                  provider: "simulator", isDefault: true, maxPerSecond: 1e9))
                    let stamp = Clock.nowMillis()
                    let t0 = now()
                    try await db.transaction { c in
                        try await c.execute("""
                            INSERT INTO contacts (uuid, org_id, phone, first_name, last_name, city, state, custom_fields, is_textable, created_at, updated_at)
                            SELECT md5(i::text || random()::text), ?, '+1212' || (200 + i / 9000)::text || (1000 + i % 9000)::text,
                                   'First' || (i % 97)::text, 'Last' || (i % 89)::text, 'City' || (i % 31)::text, 'NY', '{}', 1, ?, ?
                            FROM generate_series(0, ? - 1) AS i
                            """, [.int(org.key), .int(stamp), .int(stamp), .int(Int64(recipients))])
                    }
                    try await db.transaction { try await $0.execute("ANALYZE contacts", []) }
                    print("filled \(recipients) contacts (INSERT … SELECT generate_series) in \(fmt(now() - t0, 2))s")
                    let simulatorPath = (dir as NSString).appendingPathComponent("herald-bench-dispatch-\(getpid()).sim.sqlite")
                    result = .success(try await measure(storage: storage, scope: scope, simulatorPath: simulatorPath))
                } catch {
                    result = .failure(error)
                }
                _ = try? await admin.read { try await $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) }
                return try result.get()
            }
            while let r = try await group.next() {
                if let r {
                    group.cancelAll()
                    return r
                }
            }
            throw BenchError("no result")
        }
    }

    func measure(storage: Storage, scope: OrganizationScope, simulatorPath: String) async throws -> (seconds: Double, peakRSS: Int) {
        removeDatabase(simulatorPath)
        defer { removeDatabase(simulatorPath) }
        let simulator = try SimulatorProvider(configuration: .init(databasePath: simulatorPath, latency: .zero, submitLatency: .zero, maxPerSecond: nil))
        let registry = ProviderRegistry(providers: [simulator])
        let noon = DeliveryBenchSetup.noon
        let engine = DeliveryEngine(storage: storage, providers: registry, clock: { noon })
        var fields = CampaignFields()
        fields.name = "Bench"
        fields.message = "Hi {{firstName}}, news from {{city}}!"
        fields.contactFilter = .object([:])
        let record = try await storage.campaigns.create(scope, fields: fields, status: .pending)
        try await engine.controlTick()   // admission + fan-out
        // Peak RSS of the dispatch itself, not of filling the database: reset VmHWM first.
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let t0 = now()
        if mode == "passes" {
            var idle = 0
            while idle < 2 {
                let n = try await engine.dispatchPass()
                idle = n == 0 ? idle + 1 : 0
            }
        } else {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await engine.run() }
                while try await storage.campaigns.get(scope, id: record.id).counters.sent < Int64(recipients) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                group.cancelAll()
                try await group.waitForAll()
            }
        }
        let seconds = now() - t0
        let peak = peakRSSBytes()
        let c = try await storage.campaigns.get(scope, id: record.id)
        guard c.counters.sent == Int64(recipients) else {
            throw BenchError("counted sent \(c.counters.sent), expected \(recipients)")
        }
        return (seconds, peak)
    }
}
