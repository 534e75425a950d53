import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Testing

/// A receipt can reach Herald before the outcome of its submission is recorded, and with several
/// workers the claim on that message can move to another worker in between (the first one
/// looked dead). The receipt must wait and reach the campaign exactly once, whoever records.
@Suite("Early receipts and taken-over claims", .timeLimit(.minutes(10)))
struct EarlyReceiptTests {
    @Test("a receipt kept before its message was recorded survives a stale worker's recording and counts once", arguments: TestEngine.available)
    func keptReceiptSurvivesTakeOver(engine kind: TestEngine) async throws {
        try await withTestStorage(kind) { storage in
            let f = try await EngineFixture.make(storage, at: DeliveryEngineTests.noon)
            try await f.addContacts([1])
            let campaign = try await f.launch(message: "Hi {{firstName}}!")
            try await f.engine.controlTick()   // admit and fan out
            let delivery = storage.delivery
            let work = try #require(try await delivery.sendingCampaigns().first { $0.id == campaign.id })
            let now = Int64(DeliveryEngineTests.noon.timeIntervalSince1970 * 1000)

            // Worker A claims the message and submits it; the carrier answers "P1" and its
            // receipt arrives before A records anything: it is kept.
            let claimedByA = try await delivery.claim(campaignKey: work.key, owner: "A", now: now, limit: 10, includeAwaitingWinner: false)
            try #require(claimedByA.count == 1)
            try await delivery.receipts([.init(providerMessageId: "P1", outcome: "delivered", errorCode: nil, at: now + 5)])
            #expect(try await delivery.applyUnmatchedReceipts() == 0)   // its message is still in flight

            // A looks dead: its claim is recovered (the provider deduplicates) and B claims it.
            let recovered = try await delivery.recoverInFlight(alive: ["B"], providerDeduplicates: { _ in true }, now: now + 10)
            #expect(recovered.requeued == 1)
            let claimedByB = try await delivery.claim(campaignKey: work.key, owner: "B", now: now + 10, limit: 10, includeAwaitingWinner: false)
            try #require(claimedByB.count == 1)

            // A records late: its outcome is left alone, and so is the kept receipt.
            let sent = DeliveryStore.Outcome.sent(providerMessageId: "P1", body: "Hi Name1!", encoding: "gsm7", segments: 1, credits: 1)
            let lost = try await delivery.record(work, owner: "A", outcomes: [(claimedByA[0], sent)], chargeCredits: false, now: now + 20)
            #expect(lost == 1)
            #expect(try await delivery.applyUnmatchedReceipts() == 0)
            var c = try await storage.campaigns.get(f.scope, id: campaign.id)
            #expect(c.counters.sent == 0)
            #expect(c.counters.delivered == 0)

            // B resubmits (the carrier answers the same id) and records: the receipt applies.
            #expect(try await delivery.record(work, owner: "B", outcomes: [(claimedByB[0], sent)], chargeCredits: false, now: now + 30) == 0)
            c = try await storage.campaigns.get(f.scope, id: campaign.id)
            #expect(c.counters.sent == 1)
            #expect(c.counters.delivered == 1)

            // A repeat of the receipt changes nothing.
            try await delivery.receipts([.init(providerMessageId: "P1", outcome: "delivered", errorCode: nil, at: now + 40)])
            #expect(try await delivery.applyUnmatchedReceipts() == 0)
            c = try await storage.campaigns.get(f.scope, id: campaign.id)
            #expect(c.counters.delivered == 1)
        }
    }

    @Test("a receipt kept while a recording commits meanwhile is applied by the next control pass", arguments: TestEngine.available)
    func keptReceiptAppliedLater(engine kind: TestEngine) async throws {
        try await withTestStorage(kind) { storage in
            let f = try await EngineFixture.make(storage, at: DeliveryEngineTests.noon)
            try await f.addContacts([1, 2])
            let campaign = try await f.launch(message: "Hi!")
            try await f.engine.controlTick()
            let delivery = storage.delivery
            let work = try #require(try await delivery.sendingCampaigns().first { $0.id == campaign.id })
            let now = Int64(DeliveryEngineTests.noon.timeIntervalSince1970 * 1000)
            let claimed = try await delivery.claim(campaignKey: work.key, owner: "A", now: now, limit: 10, includeAwaitingWinner: false)
            try #require(claimed.count == 2)
            let outcomes = claimed.enumerated().map { i, m in
                (m, DeliveryStore.Outcome.sent(providerMessageId: "Q\(i)", body: "Hi!", encoding: "gsm7", segments: 1, credits: 1))
            }
            try await delivery.record(work, owner: "A", outcomes: outcomes, chargeCredits: false, now: now + 1)
            // What a recording racing a receipt batch leaves (PostgreSQL, READ COMMITTED: each
            // missed the other's uncommitted rows): the message `sent`, its receipt kept.
            try await storage.db.transaction { c in
                _ = try await c.execute("INSERT INTO unmatched_receipts (provider_message_id, outcome, error_code, received_at) VALUES (?, ?, ?, ?)",
                                        [.text("Q0"), .text("undelivered"), .text("30"), .int(now + 2)])
            }
            #expect(try await delivery.applyUnmatchedReceipts() == 1)
            let c = try await storage.campaigns.get(f.scope, id: campaign.id)
            #expect(c.counters.undelivered == 1)
            #expect(c.counters.delivered == 0)
            #expect(try await delivery.applyUnmatchedReceipts() == 0)
        }
    }
}
