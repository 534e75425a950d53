import Foundation
import HeraldCore
import HeraldEngine
import HeraldProviders
import HeraldStore
import HeraldTestSupport
import Logging
import Synchronization
import Testing

/// A clock tests set by hand.
final class TestClock: Sendable {
    private let now: Mutex<Date>
    init(_ date: Date) { now = Mutex(date) }
    func get() -> Date { now.withLock { $0 } }
    func set(_ date: Date) { now.withLock { $0 = date } }
}

struct EngineFixture {
    let storage: Storage
    let scope: OrganizationScope
    let simulator: SimulatorProvider
    let engine: DeliveryEngine
    let clock: TestClock
    let directory: URL

    static func make(_ storage: Storage, at date: Date, maxPerSecond: Double = 100_000, timezone: String = "America/New_York") async throws -> EngineFixture {
        let org = try await storage.organizations.create(name: "Engine", timezone: timezone, defaultCountry: "US", billingMode: .unlimited)
        let scope = OrganizationScope(key: org.key, id: org.id)
        _ = try await storage.senders.create(scope, SenderStore.Input(channel: .text, address: "+12025550100", type: .longCode, label: nil,
                                                                      provider: "simulator", isDefault: true, maxPerSecond: maxPerSecond))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let simulator = try SimulatorProvider(configuration: .init(databasePath: dir.appendingPathComponent("sim.db").path, latency: .milliseconds(1), throttleRetryAfter: .milliseconds(1)))
        let clock = TestClock(date)
        var config = DeliveryConfiguration()
        config.baseBackoff = .milliseconds(1)
        let registry = ProviderRegistry(providers: [simulator], receiptSources: [ReceiptSource(receipts: simulator.receipts, finish: {}, acknowledge: { await simulator.acknowledge($0) })])
        let engine = DeliveryEngine(storage: storage, providers: registry, configuration: config, clock: { clock.get() })
        return EngineFixture(storage: storage, scope: scope, simulator: simulator, engine: engine, clock: clock, directory: dir)
    }

    /// Adds contacts with phones +1 919 555 NNNN for the given suffixes.
    func addContacts(_ suffixes: [Int], optedOut: Set<Int> = []) async throws {
        for n in suffixes {
            var ch = ContactChanges()
            ch.phone = String(format: "+1919555%04d", n)
            ch.firstName = .set("Name\(n)")
            ch.isTextable = true
            ch.optedOut = optedOut.contains(n)
            _ = try await storage.contacts.upsert(scope, ch)
        }
    }

    func launch(message: String, timezone: String? = nil) async throws -> CampaignRecord {
        var fields = CampaignFields()
        fields.name = "Test"
        fields.message = message
        fields.contactFilter = .object([:])
        fields.timezone = timezone
        return try await storage.campaigns.create(scope, fields: fields, status: .pending)
    }

    /// Drives control ticks and dispatch passes until nothing is left to send or `limit` rounds.
    func drive(rounds limit: Int = 200) async throws {
        for _ in 0..<limit {
            clock.set(clock.get().addingTimeInterval(1))
            try await engine.controlTick()
            let n = try await engine.dispatchPass()
            if n == 0 {
                try await engine.controlTick()
                if try await engine.dispatchPass() == 0 { return }
            }
        }
    }
}

@Suite("Delivery engine", .timeLimit(.minutes(10)))
struct DeliveryEngineTests {
    /// Noon in New York on a weekday.
    static let noon = ISO8601DateFormatter().date(from: "2026-11-24T17:00:00Z")!

    @Test("a campaign sends every eligible phone exactly once with exact counts", arguments: TestEngine.available)
    func endToEnd(engine kind: TestEngine) async throws {
        try await withTestStorage(kind) { storage in
            let f = try await EngineFixture.make(storage, at: Self.noon)
            // 0000 rejected, 0001 undelivered, 0002 never receipted, 0003 throttled once; 10..209 delivered; 5 opted out,
            // who are not recipients at all (API.md §3).
            let suffixes = [0, 1, 2, 3] + Array(10..<210)
            try await f.addContacts(suffixes, optedOut: [10, 11, 12, 13, 14])
            let campaign = try await f.launch(message: "Hi {{firstName}}!")
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await f.simulator.run() }
                group.addTask { await f.engine.runReceiptConsumers() }
                try await f.drive()
                // Receipts arrive from the simulator; wait until the counts settle.
                let deadline = ContinuousClock.now + .seconds(120)
                while ContinuousClock.now < deadline {
                    let c = try await storage.campaigns.get(f.scope, id: campaign.id)
                    if c.counters.delivered == 196 && c.counters.undelivered == 1 { break }
                    try await Task.sleep(for: .milliseconds(20))
                    try await f.engine.controlTick()
                }
                group.cancelAll()
            }
            let c = try await storage.campaigns.get(f.scope, id: campaign.id)
            #expect(c.status == .completed)
            #expect(c.counters.total == 199)
            #expect(c.counters.skipped == 0)
            #expect(c.counters.failed == 1)
            #expect(c.counters.sent == 198)   // accepted: 0001, 0002, 0003 and the 195 others
            #expect(c.counters.delivered == 196)
            #expect(c.counters.undelivered == 1)
            #expect(c.counters.queued == 0)
            let record = try await f.simulator.countsByPhone(organizationId: f.scope.id)
            #expect(record.count == 198)
            #expect(record.values.allSatisfy { $0 == 1 })
            #expect(record["+19195550000"] == nil)
            #expect(record["+19195550010"] == nil)
            let got = try await f.simulator.messages(organizationId: f.scope.id, to: "+19195550042")
            #expect(got.map(\.body) == ["Hi Name42!"])
        }
    }
}
