import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// API.md §5.3 estimate, both forms, with exact numbers on a small known audience.
@Suite("Campaign estimates", .timeLimit(.minutes(10)))
struct CampaignEstimateTests {
    static let longNote = String(repeating: "x", count: 150)
    /// "Hi Al, don't miss it!" is 1 segment; the 150-character note makes the other 172 → 2 GSM-7 segments.
    static let message = "Hi {{firstName|there}}, don’t miss {{note}}!"

    /// Tag `est`: two eligible contacts, one opted out, one not textable; one contact outside the audience.
    static func seed(_ t: TestApp) async throws {
        _ = try await t.contact(#"{"phone":"+19195550141","firstName":"Al","tags":["est"],"customFields":{"note":"it"}}"#)
        _ = try await t.contact(#"{"phone":"+19195550142","tags":["est"],"customFields":{"note":"\#(longNote)"}}"#)
        let out = try await t.contact(#"{"phone":"+19195550143","tags":["est"]}"#)["id"]!.string!
        let r = try await t.call(.post, "/api/contacts/\(out)/opt-out")
        try #require(r.status == .ok)
        _ = try await t.contact(#"{"phone":"+19195550144","tags":["est"]}"#)
        _ = try await t.contact(#"{"phone":"+19195550145","tags":["other"]}"#)
        let orgKey = t.orgA.key
        let n = try await t.storage.db.transaction { c in
            try await c.execute("UPDATE contacts SET is_textable = 0 WHERE org_id = ? AND phone = ?", [.int(orgKey), .text("+19195550144")])
        }
        try #require(n == 1)
    }

    static func body(_ extra: String = "") -> String {
        #"{"message":"\#(message)","contactFilter":{"tags":["est"]}\#(extra)}"#
    }

    /// The estimate without its time-dependent send window.
    static func stable(_ json: FilterJSON) -> FilterJSON {
        guard case .object(var o) = json else { return json }
        o["sendWindow"] = nil
        return .object(o)
    }

    @Test("GSM-7 after normalization, merge fields giving 1 and 2 segments, exclusions, credits", arguments: TestEngine.available)
    func gsm(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            try await Self.seed(t)
            // A composing estimate is a POST: the read key may not (API.md §1, read = GET only).
            #expect(try await t.post("/api/campaigns/estimate", Self.body(), key: t.a.read).status == .forbidden)
            let r = try await t.post("/api/campaigns/estimate", Self.body(), key: t.a.write)
            #expect(r.status == .ok, "\(r.text)")
            let e = r.json
            #expect(e.keys == ["audienceSize", "excluded", "recipients", "route", "encoding", "segmentsPerMessage", "totalSegments", "credits",
                               "creditBalance", "sufficientCredits", "nonGsmCharacters", "sendWindow"])
            #expect(e["audienceSize"]?.int == 4)
            #expect(e["excluded"] == .object(["optedOut": .number(1), "notTextable": .number(1), "duplicatePhone": .number(0)]))
            #expect(e["recipients"]?.int == 2)
            #expect(e["route"]?.string == "SMS")
            #expect(e["encoding"]?.string == "GSM-7")
            #expect(e["segmentsPerMessage"] == .object(["min": .number(1), "max": .number(2), "avg": .number(1.5)]))
            #expect(e["totalSegments"]?.int == 3)
            #expect(e["credits"]?.int == 3)
            #expect(e["creditBalance"]?.int == 0)
            #expect(e["sufficientCredits"]?.bool == true) // billingMode unlimited
            #expect(e["nonGsmCharacters"] == .array([]))
            #expect(isInstant(e["sendWindow"]?["opensAt"]) && isInstant(e["sendWindow"]?["closesAt"]))

            // The stored form of the same draft gives the same numbers.
            let id = try await t.draftCampaign(Self.body(#","name":"Est""#))
            let stored = try await t.get("/api/campaigns/\(id)/estimate", key: t.a.read)
            #expect(stored.status == .ok)
            #expect(Self.stable(stored.json) == Self.stable(e))

            // Without normalization the curly apostrophe forces UCS-2: 172 characters are 3 segments of 67.
            let raw = try await t.post("/api/campaigns/estimate", Self.body(#","normalizeUnicode":false"#)).json
            #expect(raw["encoding"]?.string == "UCS-2")
            #expect(raw["nonGsmCharacters"] == .array([.string("’")]))
            #expect(raw["segmentsPerMessage"] == .object(["min": .number(1), "max": .number(3), "avg": .number(2)]))
            #expect(raw["totalSegments"]?.int == 4 && raw["credits"]?.int == 4)
        }
    }

    @Test("an emoji forces UCS-2 and is listed; mediaUrl or forceRoute MMS makes MMS at 2 credits a message", arguments: TestEngine.available)
    func ucs2AndMMS(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            try await Self.seed(t)
            let emoji = try await t.post("/api/campaigns/estimate", #"{"message":"Party 🎉 {{firstName|friend}}","contactFilter":{"tags":["est"]}}"#)
            #expect(emoji.status == .ok)
            #expect(emoji.json["encoding"]?.string == "UCS-2")
            #expect(emoji.json["nonGsmCharacters"] == .array([.string("🎉")]))
            #expect(emoji.json["segmentsPerMessage"] == .object(["min": .number(1), "max": .number(1), "avg": .number(1)]))
            #expect(emoji.json["totalSegments"]?.int == 2 && emoji.json["credits"]?.int == 2)
            #expect(emoji.json["route"]?.string == "SMS")

            for extra in [#","mediaUrl":"https://example.com/p.png""#, #","mediaUrl":"https://example.com/p.png","forceRoute":"SMS""#, #","forceRoute":"MMS""#] {
                let mms = try await t.post("/api/campaigns/estimate", Self.body(extra))
                #expect(mms.status == .ok)
                #expect(mms.json["route"]?.string == "MMS", "\(extra)")
                #expect(mms.json["credits"]?.int == 4, "\(extra)")
                #expect(mms.json["recipients"]?.int == 2)
            }
            // Stored form with media.
            let id = try await t.draftCampaign(Self.body(#","mediaUrl":"https://example.com/p.png""#))
            let stored = try await t.get("/api/campaigns/\(id)/estimate")
            #expect(stored.json["route"]?.string == "MMS" && stored.json["credits"]?.int == 4)
        }
    }

    @Test("A/B: each recipient is counted at the larger of the two variants", arguments: TestEngine.available)
    func abWorstCase(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            try await Self.seed(t)
            let r = try await t.post("/api/campaigns/estimate", """
                {"abTestEnabled":true,"messageVariantA":"Short","messageVariantB":"\(String(repeating: "b", count: 161))","contactFilter":{"tags":["est"]}}
                """)
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.json["segmentsPerMessage"] == .object(["min": .number(2), "max": .number(2), "avg": .number(2)]))
            #expect(r.json["totalSegments"]?.int == 4 && r.json["credits"]?.int == 4)
        }
    }

    @Test("inline recipients: duplicates and opted-out contacts are excluded", arguments: TestEngine.available)
    func inline(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            try await Self.seed(t)
            let r = try await t.post("/api/campaigns/estimate", """
                {"message":"Hi {{firstName|there}}","recipients":[{"phone":"+19195550150","firstName":"\(String(repeating: "Z", count: 100))"},
                 {"phone":"919-555-0150"},{"phone":"+19195550143"},{"phone":"+19195550151"}]}
                """)
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.json["audienceSize"]?.int == 4)
            #expect(r.json["excluded"] == .object(["optedOut": .number(1), "notTextable": .number(0), "duplicatePhone": .number(1)]))
            #expect(r.json["recipients"]?.int == 2)
            #expect(r.json["segmentsPerMessage"] == .object(["min": .number(1), "max": .number(1), "avg": .number(1)]))
            // The estimate creates no contacts.
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 5)
            // Invalid inline phones are reported as at launch.
            let bad = try await t.post("/api/campaigns/estimate", #"{"message":"Hi","recipients":[{"phone":"+19195550150"},{"phone":"12"}]}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.fields == ["recipients[1].phone"])
            // An estimate needs an audience.
            let none = try await t.post("/api/campaigns/estimate", #"{"message":"Hi"}"#)
            #expect(none.status == .unprocessableContent)
            #expect(Set(none.fields) == ["segmentId", "contactFilter", "listIds", "recipients"])
        }
    }

    @Test("credit balance and sufficientCredits follow the organization's billing mode", arguments: TestEngine.available)
    func balance(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            try await Self.seed(t)
            _ = try await t.patch("/api/organization", #"{"billingMode":"credits"}"#)
            _ = try await t.post("/api/organization/credits", #"{"amount":2,"reason":"test"}"#)
            let low = try await t.post("/api/campaigns/estimate", Self.body()).json
            #expect(low["credits"]?.int == 3 && low["creditBalance"]?.int == 2 && low["sufficientCredits"]?.bool == false)
            _ = try await t.post("/api/organization/credits", #"{"amount":1,"reason":"test"}"#)
            let enough = try await t.post("/api/campaigns/estimate", Self.body()).json
            #expect(enough["creditBalance"]?.int == 3 && enough["sufficientCredits"]?.bool == true)
        }
    }

    @Test("sendWindow: quiet hours in the campaign's time zone from scheduledFor", arguments: TestEngine.available)
    func sendWindow(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            try await Self.seed(t)
            let open = try await t.post("/api/campaigns/estimate", Self.body(#","timezone":"UTC","scheduledFor":"2031-03-04T15:00:00Z""#)).json
            #expect(open["sendWindow"] == .object(["opensAt": .string("2031-03-04T15:00:00.000Z"), "closesAt": .string("2031-03-04T21:00:00.000Z")]))
            let closed = try await t.post("/api/campaigns/estimate", Self.body(#","timezone":"Asia/Tokyo","scheduledFor":"2031-03-04T13:30:00Z""#)).json
            // 22:30 in Tokyo: the window opens at 08:00 the next day (23:00 UTC) and closes at 21:00 (12:00 UTC).
            #expect(closed["sendWindow"] == .object(["opensAt": .string("2031-03-04T23:00:00.000Z"), "closesAt": .string("2031-03-05T12:00:00.000Z")]))
            // Without a campaign time zone the organization's (America/New_York, EST in March 4) applies.
            let org = try await t.post("/api/campaigns/estimate", Self.body(#","scheduledFor":"2031-03-04T15:00:00Z""#)).json
            #expect(org["sendWindow"] == .object(["opensAt": .string("2031-03-04T15:00:00.000Z"), "closesAt": .string("2031-03-05T02:00:00.000Z")]))
        }
    }

    @Test("sendWindow without a campaign time zone follows the recipients' zones, as sending does", arguments: TestEngine.available)
    func recipientZones(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            try await Self.seed(t)
            _ = try await t.contact(#"{"phone":"+447400123456","timezone":"Asia/Tokyo","tags":["tokyo","mixed"]}"#)
            _ = try await t.contact(#"{"phone":"+19195550146","tags":["mixed"]}"#)
            // 00:00 in Tokyo: only Tokyo recipients, so the window opens at 08:00 there (23:00 UTC).
            let tokyo = try await t.post("/api/campaigns/estimate", #"{"message":"Hi","contactFilter":{"tags":["tokyo"]},"scheduledFor":"2031-03-04T15:00:00Z"}"#).json
            #expect(tokyo["sendWindow"] == .object(["opensAt": .string("2031-03-04T23:00:00.000Z"), "closesAt": .string("2031-03-05T12:00:00.000Z")]), "\(tokyo)")
            // With a North Carolina number too: sending starts now (10:00 in New York) and goes on
            // until Tokyo's window closes.
            let mixed = try await t.post("/api/campaigns/estimate", #"{"message":"Hi","contactFilter":{"tags":["mixed"]},"scheduledFor":"2031-03-04T15:00:00Z"}"#).json
            #expect(mixed["sendWindow"] == .object(["opensAt": .string("2031-03-04T15:00:00.000Z"), "closesAt": .string("2031-03-05T12:00:00.000Z")]), "\(mixed)")
            // Inline recipients the same way.
            let inline = try await t.post("/api/campaigns/estimate", #"{"message":"Hi","recipients":[{"phone":"+447400123457","timezone":"Asia/Tokyo"}],"scheduledFor":"2031-03-04T15:00:00Z"}"#).json
            #expect(inline["sendWindow"] == tokyo["sendWindow"], "\(inline)")
        }
    }
}
