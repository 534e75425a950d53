import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Testing

/// Prepaid credits held by claimed batches (`DeliveryStore.holdCredits`): what one batch holds
/// no other batch can take, and a hold ends with its batch's recording or its worker's recovery.
@Suite("Credit holds of claimed batches", .timeLimit(.minutes(10)))
struct CreditHoldTests {
    @Test("a hold covers the longest affordable prefix, hides its credits from other batches, and ends with the recording or the worker",
          arguments: TestEngine.available)
    func holds(engine kind: TestEngine) async throws {
        try await withTestStorage(kind) { storage in
            let f = try await EngineFixture.make(storage, at: DeliveryEngineTests.noon)
            try await f.addContacts([1])
            let campaign = try await f.launch(message: "Hi {{firstName}}!")
            try await f.engine.controlTick()
            let delivery = storage.delivery
            let work = try #require(try await delivery.sendingCampaigns().first { $0.id == campaign.id })
            _ = try await storage.organizations.addCredits(f.scope, amount: 10, reason: "test")
            let now = Int64(DeliveryEngineTests.noon.timeIntervalSince1970 * 1000)

            // A: 3 + 4 fit in 10, the next 4 does not (a prefix: the 1 after it is not taken).
            let a = try await delivery.holdCredits(work, owner: "A", costs: [3, 4, 4, 1], now: now)
            #expect(a.covered == 2 && a.available == 10 && a.key != nil)
            // B sees only what A does not hold.
            let b = try await delivery.holdCredits(work, owner: "B", costs: [2, 2], now: now)
            #expect(b.covered == 1 && b.available == 3 && b.key != nil)
            let c = try await delivery.holdCredits(work, owner: "C", costs: [2], now: now)
            #expect(c.covered == 0 && c.available == 1 && c.key == nil)

            // A's recording releases its hold (nothing else to record here).
            #expect(try await delivery.record(work, owner: "A", outcomes: [], chargeCredits: true, creditHold: a.key, now: now) == 0)
            #expect(try await delivery.holdCredits(work, owner: "C", costs: [9], now: now).available == 8)

            // B and C look dead: their holds go with their claims; D's hold stays.
            _ = try await delivery.holdCredits(work, owner: "D", costs: [1], now: now)
            try await delivery.recoverInFlight(alive: ["D"], providerDeduplicates: { _ in true }, now: now)
            #expect(try await delivery.holdCredits(work, owner: "E", costs: [], now: now).available == 9)
            // The balance itself was never touched by holds.
            #expect(try await storage.organizations.get(f.scope).creditBalance == 10)
        }
    }
}
