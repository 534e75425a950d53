import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /api/campaigns/{id}/test` (API.md §5.3): real sends to at most five phones through the
/// campaign's sender, rendered with the given merge fields, never counted in the campaign.
@Suite("Campaign test sends", .timeLimit(.minutes(10)))
struct CampaignTestSendTests {
    static func fields(_ reply: Reply) -> Set<String> {
        Set((reply.json["details"]?.array ?? []).compactMap { $0["field"]?.string })
    }

    @Test("sends rendered messages, reports each phone, fails opted-out ones, leaves the campaign's counters alone", arguments: TestEngine.available)
    func sends(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: DeliveryFlowTests.noonInNewYork) { app in
            let phones = try await app.addContacts(2)
            _ = try await app.call(.post, "/api/contacts/\(try #require(try await app.storage.contacts.find(app.scope, phone: phones[1])).id)/opt-out", "{}")
            let sender = try await app.sender()
            let draft = try await app.call(.post, "/api/campaigns/draft", """
                {"name": "T", "message": "Hi {{firstName|friend}} from {{city|here}}", "senderId": "\(sender)"}
                """)
            let id = try #require(draft.json["id"]?.string)
            let reply = try await app.call(.post, "/api/campaigns/\(id)/test", """
                {"to": ["\(phones[0])", "(202) 555-0199", "\(phones[1])"], "mergeFields": {"city": "Oslo"}}
                """)
            #expect(reply.status == .ok, "\(reply.text)")
            let results = reply.json["results"]?.array ?? []
            try #require(results.count == 3)
            // A contact's own values, overridden by mergeFields; a stranger gets the defaults.
            #expect(results[0]["to"]?.string == phones[0] && results[0]["status"]?.string == "sent")
            #expect(results[0]["body"]?.string == "Hi Name10 from Oslo")
            #expect(results[0]["encoding"]?.string == "GSM-7")
            #expect(results[0]["segments"]?.number == 1)
            #expect(results[1]["to"]?.string == "+12025550199" && results[1]["body"]?.string == "Hi friend from Oslo" && results[1]["status"]?.string == "sent")
            #expect(results[2]["status"]?.string == "failed" && results[2]["error"]?.string == "opted_out")
            #expect(results[0]["messageId"]?.string != results[1]["messageId"]?.string)
            // The carrier simulator received exactly the two sent ones.
            let received = try await app.received()
            #expect(received == [phones[0]: 1, "+12025550199": 1])
            // Test messages never count in the campaign.
            let campaign = try await app.campaign(id)
            #expect(campaign["status"]?.string == "draft")
            #expect(campaign["sentCount"]?.number ?? 0 == 0)
            // A message given in the request replaces the campaign's.
            let custom = try await app.call(.post, "/api/campaigns/\(id)/test", #"{"to": ["+12025550198"], "message": "Ping {{firstName|you}}"}"#)
            #expect(custom.status == .ok)
            #expect(custom.json["results"]?[0]?["body"]?.string == "Ping you")
        }
    }

    @Test("validation: every failing field at once; unknown campaign 404; read key 403", arguments: TestEngine.available)
    func validation(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: DeliveryFlowTests.noonInNewYork) { app in
            let draft = try await app.call(.post, "/api/campaigns/draft", #"{"name": "Empty"}"#)
            let id = try #require(draft.json["id"]?.string)
            let six = (0..<6).map { "\"+1202555010\($0)\"" }.joined(separator: ", ")
            let tooMany = try await app.call(.post, "/api/campaigns/\(id)/test", "{\"to\": [\(six)]}")
            #expect(tooMany.status == .unprocessableContent)
            #expect(Self.fields(tooMany).contains("to"))
            let bad = try await app.call(.post, "/api/campaigns/\(id)/test", """
                {"to": ["12", "+12025550100"], "mediaUrls": ["http://example.com/a.png"], "senderId": "\(UUID().uuidString)", "mergeFields": {"city": 5}}
                """)
            #expect(bad.status == .unprocessableContent, "\(bad.text)")
            #expect(Self.fields(bad) == ["to[0]", "mediaUrls[0]", "senderId", "mergeFields.city", "message"], "\(bad.text)")
            let none = try await app.call(.post, "/api/campaigns/\(id)/test", #"{"to": []}"#)
            #expect(none.status == .unprocessableContent && Self.fields(none).contains("to"))
            let wrongType = try await app.call(.post, "/api/campaigns/\(id)/test", #"{"to": "+12025550100", "mediaUrls": ["http://x"]}"#)
            #expect(wrongType.status == .badRequest)
            #expect(Set(Self.fields(wrongType)) == ["to", "mediaUrls[0]", "message"], "\(wrongType.text)")
            let missing = try await app.call(.post, "/api/campaigns/\(UUID().uuidString)/test", #"{"to": ["+12025550100"], "message": "x"}"#)
            #expect(missing.status == .notFound)
            let readKey = try await app.storage.organizations.createKey(app.scope, name: "r", role: .read).1
            let forbidden = try await app.client.execute(uri: "/api/campaigns/\(id)/test", method: .post,
                                                         headers: [.authorization: "Bearer \(readKey)", .contentType: "application/json"],
                                                         body: ByteBuffer(string: #"{"to": ["+12025550100"], "message": "x"}"#)) { $0.status }
            #expect(forbidden == .forbidden)
            // Nothing was sent by any of these.
            #expect(try await app.received().isEmpty)
        }
    }

    @Test("credits billing: test messages are paid before sending, never on credit; merge values are bounded", arguments: TestEngine.available)
    func creditsAndBounds(engine kind: TestEngine) async throws {
        try await DeliveryApp.run(kind, at: DeliveryFlowTests.noonInNewYork) { app in
            let sender = try await app.sender()
            let draft = try await app.call(.post, "/api/campaigns/draft", #"{"name": "T", "message": "Hi {{firstName|there}}", "senderId": "\#(sender)"}"#)
            let id = try #require(draft.json["id"]?.string)
            #expect(try await app.call(.patch, "/api/organization", #"{"billingMode":"credits"}"#).status == .ok)
            #expect(try await app.call(.post, "/api/organization/credits", #"{"amount":1,"reason":"purchase"}"#).status == .ok)
            let two = try await app.call(.post, "/api/campaigns/\(id)/test", #"{"to": ["+12025550101", "+12025550102"]}"#)
            #expect(two.status == .unprocessableContent, "\(two.text)")
            #expect(two.json["error"]?.string == "insufficient_credits")
            #expect(try await app.received().isEmpty)
            let one = try await app.call(.post, "/api/campaigns/\(id)/test", #"{"to": ["+12025550101"]}"#)
            #expect(one.json["results"]?[0]?["status"]?.string == "sent", "\(one.text)")
            let org = try await app.call(.get, "/api/organization")
            #expect(org.json["creditBalance"]?.int == 0)
            // Merge values: at most a custom field's length each; a body past 1,600 characters is not sent.
            let huge = String(repeating: "x", count: 1001)
            let tooLong = try await app.call(.post, "/api/campaigns/\(id)/test", #"{"to": ["+12025550101"], "mergeFields": {"firstName": "\#(huge)"}}"#)
            #expect(Self.fields(tooLong) == ["mergeFields.firstName"], "\(tooLong.text.prefix(200))")
            #expect(try await app.call(.patch, "/api/organization", #"{"billingMode":"unlimited"}"#).status == .ok)
            let long = String(repeating: "y", count: 1000)
            let body = try await app.call(.post, "/api/campaigns/\(id)/test", #"{"to": ["+12025550103"], "message": "{{a}}{{b}}", "mergeFields": {"a": "\#(long)", "b": "\#(long)"}}"#)
            #expect(body.json["results"]?[0]?["error"]?.string == "message_too_long", "\(body.text.prefix(200))")
            #expect(try await app.received() == ["+12025550101": 1])
        }
    }

    @Test("another organization's campaign is a 404", arguments: TestEngine.available)
    func crossOrganization(engine kind: TestEngine) async throws {
        try await TestApp.run(kind) { app in
            let draft = try await app.post("/api/campaigns/draft", #"{"name": "Mine", "message": "Hi"}"#)
            let id = try #require(draft.json["id"]?.string)
            let other = try await app.post("/api/campaigns/\(id)/test", #"{"to": ["+447700900123"]}"#, key: app.b.write)
            #expect(other.status == .notFound)
            let anonymous = try await app.call(.post, "/api/campaigns/\(id)/test", anonymous: true, body: #"{"to": ["+12025550100"]}"#)
            #expect(anonymous.status == .unauthorized)
        }
    }
}
