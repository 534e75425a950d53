import Foundation
import HeraldCore
@testable import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Testing

/// One campaign's error stays its own (`CampaignFailures`): a campaign whose fan-out or batch
/// preparation always fails must not stop the other campaigns of any organization, must not
/// leave claims behind, and ends `failed` with a reason instead of being retried forever.
/// The failure is real on both engines: a contact whose `custom_fields` is not JSON makes
/// every statement that reads a custom field of it fail.
@Suite("Campaign failure isolation", .timeLimit(.minutes(10)))
struct CampaignIsolationTests {
    /// Gives organization `f` a contact whose custom fields cannot be read.
    static func poison(_ f: EngineFixture, phone: String) async throws {
        var ch = ContactChanges()
        ch.phone = phone
        ch.isTextable = true
        _ = try await f.storage.contacts.upsert(f.scope, ch)
        let orgKey = f.scope.key
        let n = try await f.storage.db.transaction { c in
            try await c.execute("UPDATE contacts SET custom_fields = 'not json' WHERE org_id = ? AND phone = ?", [.int(orgKey), .text(phone)])
        }
        try #require(n == 1)
    }

    /// A second organization with its own default sender and `count` contacts, launched after
    /// the broken campaign: the healthy campaign.
    static func healthy(_ storage: Storage, count: Int) async throws -> (EngineFixture, CampaignRecord) {
        let g = try await EngineFixture.make(storage, at: DeliveryEngineTests.noon)
        try await g.addContacts(Array(100..<(100 + count)))
        return (g, try await g.launch(message: "Hello {{firstName}}"))
    }

    /// How a test drives dispatch: the pipelined rounds of `run()` or sequential passes.
    enum Dispatch: String, CaseIterable, Sendable { case rounds, passes }

    static func step(_ f: EngineFixture, _ dispatch: Dispatch) async throws {
        f.clock.set(f.clock.get().addingTimeInterval(1))
        try await f.engine.controlTick()
        switch dispatch {
        case .rounds: try await f.engine.dispatchRound {}
        case .passes: try await f.engine.dispatchPass()
        }
    }

    @Test("a campaign whose fan-out always fails ends failed; a newer campaign of another organization still fans out and completes",
          arguments: TestEngine.available)
    func fanOut(engine kind: TestEngine) async throws {
        try await withTestStorage(kind) { storage in
            let f = try await EngineFixture.make(storage, at: DeliveryEngineTests.noon)
            try await f.addContacts([11, 12])
            try await Self.poison(f, phone: "+19195550013")
            var fields = CampaignFields()
            fields.name = "Broken fan-out"
            fields.message = "Hi"
            fields.contactFilter = .object(["conditions": .array([.object(["field": .string("customFields.team"), "op": .string("eq"), "value": .string("blue")])])])
            let broken = try await storage.campaigns.create(f.scope, fields: fields, status: .pending)
            let (g, good) = try await Self.healthy(storage, count: 5)

            for _ in 0..<10 { try await Self.step(f, .passes) }

            let b = try await storage.campaigns.get(f.scope, id: broken.id)
            #expect(b.status == .failed)
            #expect(b.failureReason?.contains("recipients could not be written") == true, "\(b.failureReason ?? "nil")")
            let h = try await storage.campaigns.get(g.scope, id: good.id)
            #expect(h.status == .completed)
            #expect(h.counters.sent == 5)
            #expect(try await f.simulator.countsByPhone(organizationId: g.scope.id).count == 5)
            #expect(try await f.simulator.countsByPhone(organizationId: f.scope.id).isEmpty)
        }
    }

    @Test("a campaign whose batches always fail to prepare gives its claims back and ends failed; the other campaign completes",
          arguments: TestEngine.available, Dispatch.allCases)
    func prepare(engine kind: TestEngine, dispatch: Dispatch) async throws {
        try await withTestStorage(kind) { storage in
            let f = try await EngineFixture.make(storage, at: DeliveryEngineTests.noon)
            try await f.addContacts([11, 12])
            try await Self.poison(f, phone: "+19195550013")
            // Its fan-out reads no custom field; rendering `{{team}}` does.
            let broken = try await f.launch(message: "Hi {{team}}")
            let (g, good) = try await Self.healthy(storage, count: 5)

            for _ in 0..<10 { try await Self.step(f, dispatch) }

            let b = try await storage.campaigns.get(f.scope, id: broken.id)
            #expect(b.status == .failed)
            #expect(b.failureReason?.contains("could not be prepared") == true, "\(b.failureReason ?? "nil")")
            let h = try await storage.campaigns.get(g.scope, id: good.id)
            #expect(h.status == .completed)
            #expect(h.counters.sent == 5 && h.counters.queued == 0)
            #expect(try await f.simulator.countsByPhone(organizationId: g.scope.id).count == 5)
            #expect(try await f.simulator.countsByPhone(organizationId: f.scope.id).isEmpty)
            // Nothing is left claimed or holding credits; the broken campaign's unsent
            // recipients are cancelled with it.
            let left = try await storage.db.transaction { c in
                (try await c.queryOne("SELECT COUNT(*) FROM campaign_messages WHERE status IN ('sending', 'queued')", [])?.int(0) ?? -1,
                 try await c.queryOne("SELECT COUNT(*) FROM credit_holds", [])?.int(0) ?? -1)
            }
            #expect(left.0 == 0 && left.1 == 0)
            #expect(b.counters.total == 3 && b.counters.sent == 0)
        }
    }

    @Test("a transient database error is retried, not counted towards failing the campaign")
    func transient() {
        #expect(CampaignFailures.isTransient(SQLError(kind: .connection, message: "gone")))
        #expect(CampaignFailures.isTransient(SQLError(kind: .busy, message: "locked")))
        #expect(!CampaignFailures.isTransient(SQLError(kind: .statement, message: "22P02 invalid input syntax for type json")))
        #expect(!CampaignFailures.isTransient(StoreError.invalidState("no")))
    }
}
