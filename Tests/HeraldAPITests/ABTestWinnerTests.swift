import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /api/campaigns/{id}/ab-test/winner` (API.md §5.3): choose now, and the rest of the
/// audience gets the winner.
@Suite("A/B test winner chosen through the API", .timeLimit(.minutes(10)))
struct ABTestWinnerTests {
    @Test("the samples go out, the remainder waits; choosing B sends B to everyone else, once", arguments: TestEngine.available)
    func chooseNow(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: DeliveryFlowTests.noonInNewYork) { app in
            _ = try await app.addContacts(40)
            let sender = try await app.sender()
            let launch = try await app.call(.post, "/api/campaigns", """
                {"name": "AB", "abTestEnabled": true, "messageVariantA": "A {{firstName}}", "messageVariantB": "B {{firstName}}",
                 "abTestSamplePercent": 20, "abTestDurationMinutes": 600, "contactFilter": {}, "senderId": "\(sender)"}
                """)
            #expect(launch.status == .created, "\(launch.text)")
            let id = try #require(launch.json["id"]?.string)
            try await app.drain()
            let sample = try await app.simulator.messages(organizationId: app.scope.id, limit: 100)
            #expect(sample.count > 0 && sample.count < 40, "only the A/B samples before a winner: \(sample.count)")
            #expect(try await app.campaign(id)["status"]?.string == "sending")
            // metrics.variants counts each test group from its rows.
            var variants = try await app.campaign(id)["metrics"]?["variants"]
            let sentA = sample.filter { $0.body.hasPrefix("A ") }.count, sentB = sample.filter { $0.body.hasPrefix("B ") }.count
            #expect(sentA > 0 && sentB > 0)
            #expect(variants?["A"]?["sentCount"]?.int == sentA && variants?["A"]?["audienceSize"]?.int == sentA, "\(String(describing: variants))")
            #expect(variants?["B"]?["sentCount"]?.int == sentB && variants?["B"]?["audienceSize"]?.int == sentB)
            #expect(variants?["A"]?["queuedCount"]?.int == 0 && variants?["A"]?["skippedCount"]?.int == 0)
            #expect(variants?["A"]?.keys == ["audienceSize", "sentCount", "deliveredCount", "failedCount", "queuedCount", "skippedCount",
                                              "deliveryRate", "replyRate", "creditsUsed"])

            let bad = try await app.call(.post, "/api/campaigns/\(id)/ab-test/winner", #"{"variant": "C"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.json["details"]?[0]?["field"]?.string == "variant")
            let chosen = try await app.call(.post, "/api/campaigns/\(id)/ab-test/winner", #"{"variant": "B"}"#)
            #expect(chosen.status == .ok, "\(chosen.text)")
            #expect(chosen.json["abTestWinner"]?.string == "B")
            let again = try await app.call(.post, "/api/campaigns/\(id)/ab-test/winner", #"{"variant": "A"}"#)
            #expect(again.status == .badRequest && again.json["error"]?.string == "invalid_state", "\(again.text)")

            try await app.drain()
            let all = try await app.simulator.messages(organizationId: app.scope.id, limit: 100)
            #expect(all.count == 40)
            #expect(Set(all.map(\.to)).count == 40)
            #expect(all.dropFirst(sample.count).allSatisfy { $0.body.hasPrefix("B ") })
            let done = try await app.campaign(id)
            #expect(done["status"]?.string == "completed")
            // The rest of the audience got B: it counts under B.
            variants = done["metrics"]?["variants"]
            #expect(variants?["A"]?["sentCount"]?.int == sentA)
            #expect(variants?["B"]?["sentCount"]?.int == 40 - sentA)
            #expect(variants?["B"]?["audienceSize"]?.int == 40 - sentA)
            // Not an A/B campaign: null.
            let plain = try await app.call(.post, "/api/campaigns", #"{"name": "Plain", "message": "Hi", "contactFilter": {}, "senderId": "\#(sender)", "acknowledgeDuplicateSend": true}"#)
            #expect(try await app.campaign(try #require(plain.json["id"]?.string))["metrics"]?.raw("variants") == .null)
        }
    }

    @Test("not an A/B test, a draft, another organization's campaign, a read key", arguments: TestEngine.available)
    func refusals(engine kind: TestEngine) async throws {
        try await TestApp.run(kind) { app in
            let plain = try await app.post("/api/campaigns", #"{"name": "Plain", "message": "Hi", "contactFilter": {}}"#)
            let plainId = try #require(plain.json["id"]?.string)
            let notAB = try await app.post("/api/campaigns/\(plainId)/ab-test/winner", #"{"variant": "A"}"#)
            #expect(notAB.status == .badRequest && notAB.json["error"]?.string == "invalid_state")
            let draft = try await app.post("/api/campaigns/draft", #"{"name": "D", "abTestEnabled": true, "messageVariantA": "a", "messageVariantB": "b"}"#)
            let draftId = try #require(draft.json["id"]?.string)
            let early = try await app.post("/api/campaigns/\(draftId)/ab-test/winner", #"{"variant": "A"}"#)
            #expect(early.status == .badRequest && early.json["error"]?.string == "invalid_state")
            let missing = try await app.post("/api/campaigns/\(draftId)/ab-test/winner", "{}")
            #expect(missing.status == .unprocessableContent)
            let other = try await app.post("/api/campaigns/\(draftId)/ab-test/winner", #"{"variant": "A"}"#, key: app.b.admin)
            #expect(other.status == .notFound)
            let read = try await app.post("/api/campaigns/\(draftId)/ab-test/winner", #"{"variant": "A"}"#, key: app.a.read)
            #expect(read.status == .forbidden)
        }
    }
}
