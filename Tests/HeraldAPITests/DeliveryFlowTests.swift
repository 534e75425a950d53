import Foundation
import HeraldAPI
import HeraldCore
import HeraldEngine
import HeraldProviders
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// A date tests set by hand: the engine's wall clock.
final class ManualDate: Sendable {
    private let now: Mutex<Date>
    init(_ date: Date) { now = Mutex(date) }
    func get() -> Date { now.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    func set(_ date: Date) { now.withLock { $0 = $0 > date ? $0 : date } }
}

/// Simulated monotonic time for the token buckets: a wait advances it at once.
final class SimulatedPace: Sendable {
    private let seconds = Mutex<Double>(0)
    var now: Double { seconds.withLock { $0 } }
    var pacer: RatePacer {
        RatePacer(now: { self.now }, sleep: { wait in self.seconds.withLock { $0 += wait } })
    }
}

/// The HTTP API over a fresh database, with the simulator and a delivery engine the tests drive
/// step by step (`controlTick()`, `dispatchPass()`) on a clock they set.
struct DeliveryApp: Sendable {
    let storage: Storage
    let client: any TestClientProtocol
    let scope: OrganizationScope
    let key: String
    let simulator: SimulatorProvider
    let engine: DeliveryEngine
    let clock: ManualDate
    let pace: SimulatedPace

    static let key = "hk_deliveryflowAAAAAAAAAAAAAAAAAAAAAAAAA"

    static func run(_ kind: TestEngine, at date: Date, batchSize: Int = 1000, _ body: @escaping @Sendable (DeliveryApp) async throws -> Void) async throws {
        try await withTestStorage(kind) { storage in
            let boot = try #require(try await storage.bootstrapIfEmpty(apiKey: key))
            let scope = OrganizationScope(key: boot.organization.key, id: boot.organization.id)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-flow-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let simulator = try SimulatorProvider(configuration: .init(databasePath: dir.appendingPathComponent("sim.db").path,
                                                                       latency: .milliseconds(1), throttleRetryAfter: .milliseconds(1)))
            let clock = ManualDate(date)
            let pace = SimulatedPace()
            var delivery = DeliveryConfiguration()
            delivery.batchSize = batchSize
            delivery.baseBackoff = .milliseconds(1)
            delivery.ratePacer = pace.pacer
            let registry = ProviderRegistry(providers: [simulator], receiptSources: [ReceiptSource(receipts: simulator.receipts, finish: {}, acknowledge: { await simulator.acknowledge($0) })])
            let engine = DeliveryEngine(storage: storage, providers: registry, configuration: delivery, clock: { clock.get() })
            var configuration = HeraldConfiguration()
            configuration.role = .api
            configuration.dataDirectory = dir.path
            let app = HeraldServer.buildApplication(configuration: configuration, storage: storage, logger: Logger(label: "herald.flow-test"),
                                                    prometheus: nil, simulator: simulator, engine: engine)
            try await app.test(.router) { client in
                try await body(DeliveryApp(storage: storage, client: client, scope: scope, key: key, simulator: simulator,
                                           engine: engine, clock: clock, pace: pace))
            }
            await simulator.record.close()
        }
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil) async throws -> Reply {
        var headers: HTTPFields = [.authorization: "Bearer \(key)"]
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { r in
            Reply(status: r.status, headers: r.headers, body: r.body)
        }
    }

    /// A sender of the simulator allowed `maxPerSecond`.
    func sender(maxPerSecond: Double = 100_000) async throws -> String {
        try await storage.senders.create(scope, SenderStore.Input(channel: .text, address: "+12025550177", type: .longCode, label: nil,
                                                                  provider: "simulator", isDefault: false, maxPerSecond: maxPerSecond)).id
    }

    /// Contacts +1 919 555 NNNN (N from 10), first name "Name<N>".
    func addContacts(_ count: Int) async throws -> [String] {
        var phones: [String] = []
        for n in 10..<(10 + count) {
            var ch = ContactChanges()
            ch.phone = String(format: "+1919555%04d", n)
            ch.firstName = .set("Name\(n)")
            ch.isTextable = true
            _ = try await storage.contacts.upsert(scope, ch)
            phones.append(ch.phone!)
        }
        return phones
    }

    /// Launches a campaign to every contact through `POST /api/campaigns`.
    func launch(senderId: String, extra: String = "") async throws -> String {
        let reply = try await call(.post, "/api/campaigns", """
            {"name": "Flow", "message": "Hi {{firstName}}", "contactFilter": {}, "senderId": "\(senderId)"\(extra)}
            """)
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(reply.json["id"]?.string)
    }

    func campaign(_ id: String) async throws -> FilterJSON { try await call(.get, "/api/campaigns/\(id)").json }

    func received() async throws -> [String: Int] { try await simulator.countsByPhone(organizationId: scope.id) }

    /// One control tick and one dispatch pass; returns the messages handed to the provider.
    @discardableResult
    func step() async throws -> Int {
        try await engine.controlTick()
        return try await engine.dispatchPass()
    }

    /// Steps until a pass hands nothing over (and a tick completes what is done).
    func drain(rounds: Int = 100) async throws {
        for _ in 0..<rounds where try await step() == 0 { break }
        try await engine.controlTick()
    }
}

@Suite("Delivery through the HTTP API: schedule, quiet hours, pause, resume, cancel, rate limits", .timeLimit(.minutes(10)))
struct DeliveryFlowTests {
    /// 03:00 UTC on a Tuesday: 22:00 the evening before in New York, inside quiet hours (08:00-21:00 open).
    static let nightInNewYork = ISO8601DateFormatter().date(from: "2026-11-24T03:00:00Z")!
    /// Noon in New York.
    static let noonInNewYork = ISO8601DateFormatter().date(from: "2026-11-24T17:00:00Z")!

    @Test("quiet hours: a campaign whose time zone is at night waits until 08:00 there, then sends", arguments: TestEngine.available)
    func quietHours(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: Self.nightInNewYork) { app in
            let phones = try await app.addContacts(30)
            let id = try await app.launch(senderId: try await app.sender(), extra: #", "timezone": "America/New_York""#)
            #expect(try await app.step() == 0)
            var c = try await app.campaign(id)
            #expect(c["status"]?.string == "sending")
            #expect(c["nextSendAt"]?.string?.hasPrefix("2026-11-24T13:00:00") == true, "\(c["nextSendAt"] ?? .null)")
            #expect(c["sentCount"]?.int == 0)
            #expect(try await app.received().isEmpty)
            // 07:59 in New York: still closed.
            app.clock.set(ISO8601DateFormatter().date(from: "2026-11-24T12:59:00Z")!)
            #expect(try await app.step() == 0)
            #expect(try await app.received().isEmpty)
            // 08:00 in New York: open.
            app.clock.set(ISO8601DateFormatter().date(from: "2026-11-24T13:00:00Z")!)
            try await app.drain()
            c = try await app.campaign(id)
            #expect(c["status"]?.string == "completed")
            #expect(c["sentCount"]?.int == 30)
            #expect(c["nextSendAt"]?.isNull ?? true)
            let received = try await app.received()
            #expect(Set(received.keys) == Set(phones))
            #expect(received.values.allSatisfy { $0 == 1 })
            let first = try await app.simulator.messages(organizationId: app.scope.id, to: phones[0])
            #expect(first.map(\.body) == ["Hi Name10"])
        }
    }

    @Test("a campaign cancelled while quiet hours defer it ends with every recipient cancelled and no next send time", arguments: TestEngine.available)
    func cancelDeferred(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: Self.nightInNewYork) { app in
            _ = try await app.addContacts(10)
            let id = try await app.launch(senderId: try await app.sender(), extra: #", "timezone": "America/New_York""#)
            #expect(try await app.step() == 0)
            #expect(try await app.campaign(id)["nextSendAt"]?.string != nil)
            let r = try await app.call(.post, "/api/campaigns/\(id)/cancel")
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.json["status"]?.string == "completed")
            #expect(r.json.raw("nextSendAt") == .null, "\(r.text)")
            #expect(r.json["skippedCount"]?.int == 10 && r.json["queuedCount"]?.int == 0)
            app.clock.set(ISO8601DateFormatter().date(from: "2026-11-24T13:00:00Z")!)
            try await app.drain()
            #expect(try await app.received().isEmpty)
        }
    }

    @Test("prepaid credits: a campaign pauses when the balance runs out, never sending on credit; credits and resume finish it", arguments: TestEngine.available)
    func creditsRunOut(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: Self.noonInNewYork) { app in
            let phones = try await app.addContacts(10)
            #expect(try await app.call(.patch, "/api/organization", #"{"billingMode":"credits"}"#).status == .ok)
            #expect(try await app.call(.post, "/api/organization/credits", #"{"amount":10,"reason":"purchase"}"#).status == .ok)
            let id = try await app.launch(senderId: try await app.sender())
            // Another use of the balance after the launch check: 4 credits are left for 10 messages.
            #expect(try await app.call(.post, "/api/organization/credits", #"{"amount":-6,"reason":"another campaign"}"#).status == .ok)
            try await app.drain()
            var c = try await app.campaign(id)
            #expect(c["status"]?.string == "paused", "\(c)")
            #expect(c["failureReason"]?.string?.contains("credit") == true)
            #expect(c["sentCount"]?.int == 4 && c["queuedCount"]?.int == 6, "\(c)")
            #expect(try await app.call(.get, "/api/organization").json["creditBalance"]?.int == 0)
            #expect(try await app.received().count == 4)
            // Top up and resume: the rest goes out once, and the balance never went below zero.
            #expect(try await app.call(.post, "/api/organization/credits", #"{"amount":6,"reason":"top-up"}"#).status == .ok)
            let resumed = try await app.call(.post, "/api/campaigns/\(id)/resume")
            #expect(resumed.status == .ok, "\(resumed.text)")
            #expect(resumed.json.raw("failureReason") == .null)
            try await app.drain()
            c = try await app.campaign(id)
            #expect(c["status"]?.string == "completed")
            #expect(c["sentCount"]?.int == 10 && c["creditsUsed"]?.int == 10)
            #expect(try await app.call(.get, "/api/organization").json["creditBalance"]?.int == 0)
            let received = try await app.received()
            #expect(Set(received.keys) == Set(phones))
            #expect(received.values.allSatisfy { $0 == 1 })
            let ledger = try await app.call(.get, "/api/organization/credits/ledger").json.array
            #expect(ledger.allSatisfy { ($0["balanceAfter"]?.int ?? -1) >= 0 }, "\(ledger)")
        }
    }

    @Test("prepaid credits: batches claimed side by side never spend the same credits", arguments: TestEngine.available)
    func creditsHeldByClaimedBatches(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: Self.noonInNewYork) { app in
            let phones = try await app.addContacts(10)
            #expect(try await app.call(.patch, "/api/organization", #"{"billingMode":"credits"}"#).status == .ok)
            #expect(try await app.call(.post, "/api/organization/credits", #"{"amount":20,"reason":"purchase"}"#).status == .ok)
            let sender = try await app.sender()
            let first = try await app.launch(senderId: sender)
            let second = try await app.launch(senderId: sender, extra: #", "acknowledgeDuplicateSend": true"#)
            #expect(try await app.call(.post, "/api/organization/credits", #"{"amount":-8,"reason":"another use"}"#).status == .ok)
            try await app.engine.controlTick()
            // One round claims a batch of each campaign before either is recorded: 12 credits
            // for 20 messages. The second batch may only take what the first did not hold.
            #expect(try await app.engine.dispatchRound {} == 12)
            #expect(try await app.call(.get, "/api/organization").json["creditBalance"]?.int == 0)
            let counts = [try await app.campaign(first), try await app.campaign(second)]
            #expect(counts.map { $0["sentCount"]?.int ?? -1 }.reduce(0, +) == 12, "\(counts)")
            #expect(counts.filter { $0["status"]?.string == "paused" }.count == 1, "\(counts)")
            let holds = try await app.storage.db.transaction { c in try await c.queryOne("SELECT COUNT(*) FROM credit_holds", [])?.int(0) }
            #expect(holds == 0)
            // Topped up and resumed: every phone gets each campaign once, never on credit.
            #expect(try await app.call(.post, "/api/organization/credits", #"{"amount":8,"reason":"top-up"}"#).status == .ok)
            for c in counts where c["status"]?.string == "paused" {
                #expect(try await app.call(.post, "/api/campaigns/\(c["id"]?.string ?? "")/resume").status == .ok)
            }
            try await app.drain()
            #expect(try await app.campaign(first)["status"]?.string == "completed")
            #expect(try await app.campaign(second)["status"]?.string == "completed")
            #expect(try await app.call(.get, "/api/organization").json["creditBalance"]?.int == 0)
            let received = try await app.received()
            #expect(Set(received.keys) == Set(phones))
            #expect(received.values.allSatisfy { $0 == 2 })
            let ledger = try await app.call(.get, "/api/organization/credits/ledger").json.array
            #expect(ledger.allSatisfy { ($0["balanceAfter"]?.int ?? -1) >= 0 }, "\(ledger)")
        }
    }

    @Test("scheduling: a campaign scheduled for later stays scheduled until the clock passes it", arguments: TestEngine.available)
    func scheduling(engine kind: TestEngine) async throws {
        // The API decides "later" on the real clock; the engine runs on the test's. The
        // schedule is the next 17:00 UTC (noon in New York, inside the send window) at least
        // three hours away, so the test does not depend on the time of day it runs at.
        let now = Date()
        var next = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 + 17 * 3600)
        while next < now.addingTimeInterval(3 * 3600) { next = next.addingTimeInterval(86_400) }
        let at = next
        try await DeliveryApp.run(kind, at: now) { app in
            let phones = try await app.addContacts(5)
            let when = ISO8601DateFormatter().string(from: at)
            let id = try await app.launch(senderId: try await app.sender(), extra: #", "scheduledFor": "\#(when)""#)
            #expect(try await app.campaign(id)["status"]?.string == "scheduled")
            app.clock.set(at.addingTimeInterval(-60))
            try await app.drain()
            #expect(try await app.campaign(id)["status"]?.string == "scheduled")
            #expect(try await app.received().isEmpty)
            app.clock.set(at.addingTimeInterval(1))
            try await app.drain()
            let c = try await app.campaign(id)
            #expect(c["sentCount"]?.int == 5)
            #expect(Set(try await app.received().keys) == Set(phones))
        }
    }

    @Test("pause stops dispatch; resume continues exactly where it stopped", arguments: TestEngine.available)
    func pauseAndResume(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: Self.noonInNewYork, batchSize: 20) { app in
            let phones = try await app.addContacts(100)
            let id = try await app.launch(senderId: try await app.sender())
            #expect(try await app.step() == 20)
            #expect(try await app.step() == 20)
            let paused = try await app.call(.post, "/api/campaigns/\(id)/pause")
            #expect(paused.status == .ok, "\(paused.text)")
            #expect(paused.json["status"]?.string == "paused")
            // Acknowledged: nothing more goes out, however long the engine runs.
            for _ in 0..<5 {
                app.clock.advance(60)
                #expect(try await app.step() == 0)
            }
            #expect(try await app.received().count == 40)
            var c = try await app.campaign(id)
            #expect(c["sentCount"]?.int == 40)
            #expect(c["queuedCount"]?.int == 60)
            let resumed = try await app.call(.post, "/api/campaigns/\(id)/resume")
            #expect(resumed.status == .ok, "\(resumed.text)")
            #expect(resumed.json["status"]?.string == "sending")
            try await app.drain()
            c = try await app.campaign(id)
            #expect(c["status"]?.string == "completed")
            #expect(c["sentCount"]?.int == 100)
            #expect(c["queuedCount"]?.int == 0)
            let received = try await app.received()
            #expect(Set(received.keys) == Set(phones))
            #expect(received.values.allSatisfy { $0 == 1 })
        }
    }

    /// When a cancel arrives: between dispatch passes, or after the next batch was claimed and
    /// before it went to the provider (`DeliveryEngine.dispatchRound`).
    enum CancelTiming: String, CaseIterable, Sendable { case betweenPasses, whileClaimed }

    @Test("cancel: unsent recipients (a batch claimed before the cancel too) become cancelled and the counters say so",
          arguments: TestEngine.available, CancelTiming.allCases)
    func cancel(engine kind: TestEngine, timing: CancelTiming) async throws {
        try await DeliveryApp.run(kind, at: Self.noonInNewYork, batchSize: 20) { app in
            _ = try await app.addContacts(100)
            let id = try await app.launch(senderId: try await app.sender())
            #expect(try await app.step() == 20)
            func cancel() async throws {
                let cancelled = try await app.call(.post, "/api/campaigns/\(id)/cancel")
                #expect(cancelled.status == .ok, "\(cancelled.text)")
                #expect(cancelled.json["status"]?.string == "completed")
            }
            switch timing {
            case .betweenPasses: try await cancel()
            case .whileClaimed: #expect(try await app.engine.dispatchRound { try await cancel() } == 0)
            }
            app.clock.advance(60)
            try await app.drain()
            let c = try await app.campaign(id)
            #expect(c["status"]?.string == "completed")
            #expect(c["sentCount"]?.int == 20)
            #expect(c["skippedCount"]?.int == 80)
            #expect(c["queuedCount"]?.int == 0)
            #expect(c["totalCount"]?.int == 100)
            #expect(try await app.received().count == 20)
            let rows = try await app.storage.db.transaction { c in
                try await c.query("SELECT status, count(*) FROM campaign_messages WHERE org_id = ? GROUP BY status ORDER BY status", [.int(app.scope.key)])
            }
            #expect(rows.map { "\($0.text(0))=\($0.int(1))" } == ["cancelled=80", "sent=20"])
            // Not allowed again.
            #expect(try await app.call(.post, "/api/campaigns/\(id)/resume").status == .badRequest)
        }
    }

    @Test("a batch claimed before a pause is not sent until resume, then exactly once", arguments: TestEngine.available)
    func pauseWhileClaimed(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: Self.noonInNewYork, batchSize: 20) { app in
            let phones = try await app.addContacts(100)
            let id = try await app.launch(senderId: try await app.sender())
            #expect(try await app.step() == 20)
            let handed = try await app.engine.dispatchRound {
                let r = try await app.call(.post, "/api/campaigns/\(id)/pause")
                #expect(r.status == .ok, "\(r.text)")
            }
            #expect(handed == 0)
            app.clock.advance(60)
            #expect(try await app.step() == 0)
            #expect(try await app.received().count == 20)
            var c = try await app.campaign(id)
            #expect(c["queuedCount"]?.int == 80)
            #expect(try await app.call(.post, "/api/campaigns/\(id)/resume").status == .ok)
            try await app.drain()
            c = try await app.campaign(id)
            #expect(c["status"]?.string == "completed")
            #expect(c["sentCount"]?.int == 100)
            let received = try await app.received()
            #expect(Set(received.keys) == Set(phones))
            #expect(received.values.allSatisfy { $0 == 1 })
        }
    }

    @Test("a sender's rate limit holds within 10% (simulated time)", arguments: TestEngine.available)
    func rateLimit(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: Self.noonInNewYork) { app in
            let phones = try await app.addContacts(250)
            let id = try await app.launch(senderId: try await app.sender(maxPerSecond: 25))
            let start = app.pace.now
            try await app.drain(rounds: 50)
            let elapsed = app.pace.now - start
            #expect(try await app.campaign(id)["sentCount"]?.int == 250)
            #expect(Set(try await app.received().keys) == Set(phones))
            // A full bucket (25) goes at once; the other 225 at 25 a second: 9 s.
            let rate = Double(250 - 25) / elapsed
            #expect(rate <= 25 * 1.1 && rate >= 25 * 0.9, "rate \(rate)/s over \(elapsed) s")
        }
    }
}
