import Foundation
import HTTPTypes
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// Exact key set of the campaign object (API.md §5.1).
private let campaignShape: Set<String> = [
    "id", "name", "status", "channel", "fallbackChannels", "message", "mediaUrl", "forceRoute", "normalizeUnicode",
    "segmentId", "contactFilter", "listIds", "senderId", "scheduledFor", "timezone",
    "abTestEnabled", "messageVariantA", "messageVariantB", "abTestSamplePercent", "abTestMetric",
    "abTestDurationMinutes", "abTestWinner", "autoReplyEnabled", "yesResponse", "noResponse", "faqReplies",
    "trackLinks", "subject", "template",
    "totalCount", "sentCount", "failedCount", "queuedCount", "deliveredCount", "skippedCount", "deliveryRate",
    "replyCountExcludingOptouts", "optOutCount", "clickCount", "uniqueClickCount", "creditsUsed",
    "failureReason", "nextSendAt", "createdAt", "updatedAt", "startedAt", "completedAt",
]

private let metricsShape: Set<String> = [
    "audienceSize", "sentCount", "deliveredCount", "failedCount", "queuedCount", "skippedCount", "deliveryRate", "replyRate",
    "clickRate", "linkClicks", "uniqueLinkClicks", "optOuts", "creditsUsed", "variants",
]

private let estimateShape: Set<String> = [
    "audienceSize", "excluded", "recipients", "route", "encoding", "segmentsPerMessage", "totalSegments", "credits",
    "creditBalance", "sufficientCredits", "nonGsmCharacters", "sendWindow",
]

extension TestApp {
    /// Launches (POST /api/campaigns) and requires a 201.
    func launchCampaign(_ body: String, key: String? = nil) async throws -> FilterJSON {
        let r = try await post("/api/campaigns", body, key: key)
        try #require(r.status == .created, "launch failed: \(r.status) \(r.text)")
        return r.json
    }

    /// Creates a draft and returns its id.
    func draftCampaign(_ body: String = "{}", key: String? = nil) async throws -> String {
        let r = try await post("/api/campaigns/draft", body, key: key)
        try #require(r.status == .created, "draft failed: \(r.status) \(r.text)")
        return try #require(r.json["id"]?.string)
    }
}

/// An RFC 3339 UTC instant with milliseconds for `date`.
private func rfc3339(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: date)
}

/// API.md §5: campaigns — compose, validate, launch, lifecycle.
@Suite("Campaigns", .timeLimit(.minutes(10)))
struct CampaignTests {
    static let filterVIP = #""contactFilter":{"tags":["vip"]}"#

    @Test("list: bare array newest first, status and search filters, X-Next-Cursor paging", arguments: TestEngine.available)
    func list(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            #expect(try await t.get("/api/campaigns", key: t.a.read).json == .array([]))
            let d1 = try await t.draftCampaign(#"{"name":"Spring draft"}"#)
            let l1 = try await t.launchCampaign(#"{"name":"Spring launch","message":"Hi",\#(Self.filterVIP)}"#)["id"]!.string!
            let d2 = try await t.draftCampaign(#"{"name":"Autumn draft"}"#)
            let r = try await t.get("/api/campaigns", key: t.a.read)
            #expect(r.status == .ok)
            #expect(r.json.ids == [d2, l1, d1])
            #expect(r.json[0]?.keys == campaignShape)
            #expect(r.header("X-Next-Cursor") == nil)
            #expect(try await t.get("/api/campaigns?status=draft").json.ids == [d2, d1])
            #expect(try await t.get("/api/campaigns?status=pending").json.ids == [l1])
            #expect(try await t.get("/api/campaigns?search=spring").json.ids == [l1, d1])
            #expect(try await t.get("/api/campaigns?search=spring&status=draft").json.ids == [d1])
            #expect(try await t.get("/api/campaigns?search=winter").json.ids == [])
            let bad = try await t.get("/api/campaigns?status=running")
            #expect(bad.status == .badRequest)
            #expect(bad.fields == ["status"])
            // Paging by one.
            let p1 = try await t.get("/api/campaigns?limit=1")
            #expect(p1.json.ids == [d2])
            let cursor = try #require(p1.header("X-Next-Cursor"))
            let p2 = try await t.get("/api/campaigns?limit=1&cursor=\(cursor)")
            #expect(p2.json.ids == [l1])
            #expect(try await t.all("/api/campaigns", limit: 2).ids == [d2, l1, d1])
            // LIKE wildcards in a search are literal.
            let pct = try await t.draftCampaign(#"{"name":"50% off"}"#)
            _ = try await t.draftCampaign(#"{"name":"500 club"}"#)
            #expect(try await t.get("/api/campaigns?search=50%25").json.ids == [pct])
            #expect(try await t.get("/api/campaigns?search=5_0").json.ids == [])
            #expect(try await t.get("/api/campaigns?cursor=garbage").status == .badRequest)
            // Organization B sees none of them.
            #expect(try await t.get("/api/campaigns", key: t.b.read).json == .array([]))
        }
    }

    @Test("launch: pending now, in the past or within 30 s; scheduled later with the offset converted to UTC", arguments: TestEngine.available)
    func launchStatus(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let now = try await t.launchCampaign(#"{"name":"Now","message":"Hi {{firstName|there}}",\#(Self.filterVIP)}"#, key: t.a.write)
            #expect(now.keys == campaignShape)
            #expect(now["status"]?.string == "pending")
            #expect(now.raw("scheduledFor") == .null)
            #expect(isUUID(now["id"]) && isInstant(now["createdAt"]) && isInstant(now["updatedAt"]))
            #expect(now["channel"]?.string == "text" && now["forceRoute"]?.string == "AUTO" && now["normalizeUnicode"]?.bool == true)
            #expect(now["abTestSamplePercent"]?.int == 5 && now["abTestDurationMinutes"]?.int == 60 && now["abTestMetric"]?.string == "replyRate")
            #expect(now["trackLinks"]?.bool == false && now["abTestEnabled"]?.bool == false && now["autoReplyEnabled"]?.bool == false)
            #expect(now["contactFilter"] == .object(["tags": .array([.string("vip")])]))
            let past = try await t.launchCampaign(#"{"name":"Past","message":"Hi","scheduledFor":"2020-01-01T00:00:00Z",\#(Self.filterVIP)}"#)
            #expect(past["status"]?.string == "pending")
            let soon = try await t.launchCampaign(#"{"name":"Soon","message":"Hi","scheduledFor":"\#(rfc3339(Date().addingTimeInterval(10)))",\#(Self.filterVIP)}"#)
            #expect(soon["status"]?.string == "pending")
            let later = try await t.launchCampaign(#"{"name":"Later","message":"Hi","scheduledFor":"2031-03-04T10:15:00+02:00","timezone":"Europe/Paris",\#(Self.filterVIP)}"#)
            #expect(later["status"]?.string == "scheduled")
            #expect(later["scheduledFor"]?.string == "2031-03-04T08:15:00.000Z")
            #expect(later["timezone"]?.string == "Europe/Paris")
            let fetched = try await t.get("/api/campaigns/\(later["id"]!.string!)")
            #expect(fetched.json["scheduledFor"]?.string == "2031-03-04T08:15:00.000Z")
            // A time without an offset is a 422 on scheduledFor, for launch and draft alike.
            for path in ["/api/campaigns", "/api/campaigns/draft"] {
                let naive = try await t.post(path, #"{"name":"Naive","message":"Hi","scheduledFor":"2031-03-04T10:15:00",\#(Self.filterVIP)}"#)
                #expect(naive.status == .unprocessableContent, "\(path)")
                #expect(naive.error == "validation_error")
                #expect(naive.fields == ["scheduledFor"])
                // A number is the wrong type (it has no unit), however large: 400, nothing stored.
                for number in ["1798761600", "1e300", "-1e300", "1e15"] {
                    let r = try await t.post(path, #"{"name":"Numeric","message":"Hi","scheduledFor":\#(number),\#(Self.filterVIP)}"#)
                    #expect(r.status == .badRequest, "\(path) \(number): \(r.text)")
                    #expect(r.error == "invalid_request")
                    #expect(r.fields == ["scheduledFor"])
                }
            }
            #expect(try await t.get("/api/campaigns").json.array.count == 4)
        }
    }

    @Test("draft: every field optional; draftId promotes in place; a non-draft draftId is invalid_state", arguments: TestEngine.available)
    func draftPromotion(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let empty = try await t.post("/api/campaigns/draft", "{}", key: t.a.write)
            #expect(empty.status == .created)
            #expect(empty.json.keys == campaignShape)
            #expect(empty.json["status"]?.string == "draft")
            #expect(empty.json.raw("name") == .null && empty.json.raw("message") == .null)
            // A draft with launch problems (no audience, unknown merge field) is still fine.
            let id = try await t.draftCampaign(#"{"name":"Promo","message":"Hi {{nickname}}"}"#)
            // Launch needs the missing pieces; those given with draftId are merged over the draft.
            let missing = try await t.post("/api/campaigns", #"{"draftId":"\#(id)"}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(Set(missing.fields) == ["message", "segmentId", "contactFilter", "listIds", "recipients"])
            #expect(try await t.get("/api/campaigns/\(id)").json["status"]?.string == "draft")
            let launched = try await t.post("/api/campaigns", #"{"draftId":"\#(id)","message":"Hi {{firstName}}",\#(Self.filterVIP)}"#)
            #expect(launched.status == .created)
            #expect(launched.json["id"]?.string == id)
            #expect(launched.json["status"]?.string == "pending")
            #expect(launched.json["name"]?.string == "Promo")
            #expect(launched.json["message"]?.string == "Hi {{firstName}}")
            #expect(try await t.get("/api/campaigns").json.ids == [id, empty.json["id"]!.string!])
            // Promoting it again: it is no longer a draft.
            let again = try await t.post("/api/campaigns", #"{"draftId":"\#(id)","name":"Again","message":"Hi",\#(Self.filterVIP)}"#)
            #expect(again.status == .badRequest)
            #expect(again.error == "invalid_state")
            #expect(try await t.get("/api/campaigns").json.array.count == 2)
            // A scheduled promotion.
            let d2 = try await t.draftCampaign(#"{"name":"Later","message":"Hi",\#(Self.filterVIP)}"#)
            let sched = try await t.post("/api/campaigns", #"{"draftId":"\#(d2)","scheduledFor":"2031-01-01T00:00:00Z"}"#)
            #expect(sched.status == .created)
            #expect(sched.json["id"]?.string == d2 && sched.json["status"]?.string == "scheduled")
            // An unknown draftId names the field.
            let unknown = try await t.post("/api/campaigns", #"{"draftId":"\#(UUID().uuidString.lowercased())","name":"X","message":"Hi",\#(Self.filterVIP)}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.fields == ["draftId"])
        }
    }

    @Test("GET adds phoneNumber and metrics", arguments: TestEngine.available)
    func getDetailed(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let id = try await t.draftCampaign(#"{"name":"Detail"}"#)
            let r = try await t.get("/api/campaigns/\(id)", key: t.a.read)
            #expect(r.status == .ok)
            #expect(r.json.keys == campaignShape.union(["phoneNumber", "metrics"]))
            let phone = try #require(r.json["phoneNumber"])
            #expect(phone.keys == ["id", "address", "label", "type"])
            #expect(phone["id"]?.string == t.defaultSenderId)
            #expect(phone["address"]?.string == "+12025550100")
            #expect(phone["type"]?.string == "longCode")
            let metrics = try #require(r.json["metrics"])
            #expect(metrics.keys == metricsShape)
            #expect(metrics["audienceSize"]?.int == 0 && metrics["sentCount"]?.int == 0 && metrics["deliveryRate"]?.number == 0)
            #expect(metrics.raw("variants") == .null)
            // An explicit sender is reported.
            let s = try await t.post("/api/senders", #"{"channel":"text","address":"+18885550123","label":"Toll free","provider":"simulator"}"#)
            try #require(s.status == .created, "\(s.text)")
            let sid = s.json["id"]!.string!
            let withSender = try await t.draftCampaign(#"{"phoneNumberId":"\#(sid)"}"#)
            let g = try await t.get("/api/campaigns/\(withSender)")
            #expect(g.json["senderId"]?.string == sid)
            #expect(g.json["phoneNumber"]?["id"]?.string == sid && g.json["phoneNumber"]?["label"]?.string == "Toll free")
            #expect(g.json["phoneNumber"]?["type"]?.string == "tollFree")
            // The list and create responses do not carry them.
            #expect(try await t.get("/api/campaigns").json[0]?.keys == campaignShape)
            #expect(try await t.get("/api/campaigns/not-a-uuid").status == .notFound)
            #expect(try await t.get("/api/campaigns/\(UUID().uuidString.lowercased())").status == .notFound)
        }
    }

    @Test("PATCH edits a draft partially; a non-draft is invalid_state", arguments: TestEngine.available)
    func patchDraft(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let id = try await t.draftCampaign(#"{"name":"One","message":"Hello","timezone":"America/Chicago",\#(Self.filterVIP)}"#)
            let r = try await t.patch("/api/campaigns/\(id)", #"{"message":"Hello {{firstName}}","mediaUrl":"https://example.com/a.png"}"#, key: t.a.write)
            #expect(r.status == .ok)
            #expect(r.json.keys == campaignShape)
            #expect(r.json["name"]?.string == "One")
            #expect(r.json["message"]?.string == "Hello {{firstName}}")
            #expect(r.json["mediaUrl"]?.string == "https://example.com/a.png")
            #expect(r.json["timezone"]?.string == "America/Chicago")
            #expect(r.json["contactFilter"] == .object(["tags": .array([.string("vip")])]))
            #expect(r.json["status"]?.string == "draft")
            // Draft rules apply to a PATCH.
            let bad = try await t.patch("/api/campaigns/\(id)", #"{"timezone":"Nowhere/Land","forceRoute":"FAX"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields) == ["timezone", "forceRoute"])
            #expect(try await t.get("/api/campaigns/\(id)").json["timezone"]?.string == "America/Chicago")
            // Launched: no more edits.
            _ = try await t.launchCampaign(#"{"draftId":"\#(id)"}"#)
            let locked = try await t.patch("/api/campaigns/\(id)", #"{"name":"Two"}"#)
            #expect(locked.status == .badRequest)
            #expect(locked.error == "invalid_state")
            #expect(try await t.get("/api/campaigns/\(id)").json["name"]?.string == "One")
        }
    }

    @Test("DELETE: draft and scheduled → 204, others → invalid_state", arguments: TestEngine.available)
    func deleteRules(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let draft = try await t.draftCampaign()
            let scheduled = try await t.launchCampaign(#"{"name":"S","message":"Hi","scheduledFor":"2031-01-01T00:00:00Z",\#(Self.filterVIP)}"#)["id"]!.string!
            let pending = try await t.launchCampaign(#"{"name":"P","message":"Hi",\#(Self.filterVIP)}"#)["id"]!.string!
            #expect(try await t.delete("/api/campaigns/\(draft)", key: t.a.write).status == .noContent)
            #expect(try await t.delete("/api/campaigns/\(scheduled)").status == .noContent)
            #expect(try await t.get("/api/campaigns/\(draft)").status == .notFound)
            #expect(try await t.get("/api/campaigns/\(scheduled)").status == .notFound)
            let p = try await t.delete("/api/campaigns/\(pending)")
            #expect(p.status == .badRequest && p.error == "invalid_state")
            _ = try await t.call(.post, "/api/campaigns/\(pending)/pause")
            let paused = try await t.delete("/api/campaigns/\(pending)")
            #expect(paused.status == .badRequest && paused.error == "invalid_state")
            _ = try await t.call(.post, "/api/campaigns/\(pending)/cancel")
            let completed = try await t.delete("/api/campaigns/\(pending)")
            #expect(completed.status == .badRequest && completed.error == "invalid_state")
            #expect(try await t.get("/api/campaigns").json.ids == [pending])
            #expect(try await t.delete("/api/campaigns/\(draft)").status == .notFound)
        }
    }

    @Test("pause/resume/cancel/unschedule transitions; disallowed ones are invalid_state", arguments: TestEngine.available)
    func transitions(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            func act(_ id: String, _ action: String) async throws -> Reply { try await t.call(.post, "/api/campaigns/\(id)/\(action)", key: t.a.write) }
            func expectInvalid(_ id: String, _ action: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let r = try await act(id, action)
                #expect(r.status == .badRequest, "\(action): \(r.text)", sourceLocation: sourceLocation)
                #expect(r.error == "invalid_state", sourceLocation: sourceLocation)
            }
            // Scheduled: pause → paused, resume → scheduled, unschedule → draft.
            let s = try await t.launchCampaign(#"{"name":"S","message":"Hi","scheduledFor":"2031-01-01T00:00:00Z",\#(Self.filterVIP)}"#)["id"]!.string!
            try await expectInvalid(s, "resume")
            let paused = try await act(s, "pause")
            #expect(paused.status == .ok)
            #expect(paused.json.keys == campaignShape)
            #expect(paused.json["status"]?.string == "paused")
            try await expectInvalid(s, "pause")
            try await expectInvalid(s, "unschedule")
            #expect(try await act(s, "resume").json["status"]?.string == "scheduled")
            #expect(try await act(s, "unschedule").json["status"]?.string == "draft")
            #expect(try await t.get("/api/campaigns/\(s)").json["status"]?.string == "draft")
            // Draft: no pause, resume, unschedule.
            try await expectInvalid(s, "pause")
            try await expectInvalid(s, "resume")
            try await expectInvalid(s, "unschedule")
            // Pending: pause → paused, resume → pending, cancel → completed (final).
            let p = try await t.launchCampaign(#"{"name":"P","message":"Hi",\#(Self.filterVIP)}"#)["id"]!.string!
            try await expectInvalid(p, "unschedule")
            #expect(try await act(p, "pause").json["status"]?.string == "paused")
            #expect(try await act(p, "resume").json["status"]?.string == "pending")
            let cancelled = try await act(p, "cancel")
            #expect(cancelled.status == .ok)
            #expect(cancelled.json["status"]?.string == "completed")
            #expect(isInstant(cancelled.json["completedAt"]))
            for action in ["pause", "resume", "cancel", "unschedule"] { try await expectInvalid(p, action) }
            // A paused campaign can be cancelled.
            let q = try await t.launchCampaign(#"{"name":"Q","message":"Hi",\#(Self.filterVIP)}"#)["id"]!.string!
            _ = try await act(q, "pause")
            #expect(try await act(q, "cancel").json["status"]?.string == "completed")
            // Unknown campaign.
            #expect(try await act(UUID().uuidString.lowercased(), "pause").status == .notFound)
        }
    }

    @Test("duplicate → 201 draft named \"Copy of …\" with the same content", arguments: TestEngine.available)
    func duplicate(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let src = try await t.launchCampaign(#"{"name":"Gala","message":"Hi {{firstName}}","scheduledFor":"2031-01-01T00:00:00Z","timezone":"America/Denver",\#(Self.filterVIP)}"#)
            let r = try await t.call(.post, "/api/campaigns/\(src["id"]!.string!)/duplicate", key: t.a.write)
            #expect(r.status == .created)
            #expect(r.json.keys == campaignShape)
            #expect(r.json["id"] != src["id"])
            #expect(r.json["status"]?.string == "draft")
            #expect(r.json["name"]?.string == "Copy of Gala")
            #expect(r.json["message"]?.string == "Hi {{firstName}}")
            #expect(r.json["timezone"]?.string == "America/Denver")
            #expect(r.json["contactFilter"] == src["contactFilter"])
            #expect(r.json.raw("scheduledFor") == .null)
            // The source is untouched.
            #expect(try await t.get("/api/campaigns/\(src["id"]!.string!)").json["status"]?.string == "scheduled")
            // A 200-character name stays within the limit.
            let long = try await t.draftCampaign(#"{"name":"\#(String(repeating: "n", count: 200))"}"#)
            let copy = try await t.call(.post, "/api/campaigns/\(long)/duplicate")
            #expect(copy.status == .created)
            #expect(copy.json["name"]?.string?.count == 200)
            #expect(copy.json["name"]?.string?.hasPrefix("Copy of nnn") == true)
            // Inline recipients are copied.
            let inline = try await t.launchCampaign(#"{"name":"Inline","message":"Hi","recipients":[{"phone":"+19195550180"},{"phone":"+19195550181"}]}"#)
            let dup = try await t.call(.post, "/api/campaigns/\(inline["id"]!.string!)/duplicate")
            #expect(dup.status == .created)
            let est = try await t.get("/api/campaigns/\(dup.json["id"]!.string!)/estimate")
            #expect(est.json["recipients"]?.int == 2)
        }
    }

    @Test("launch validation reports every failing field (422)", arguments: TestEngine.available)
    func validation(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let none = UUID().uuidString.lowercased()
            let many = try await t.post("/api/campaigns", """
                {"name":"\(String(repeating: "x", count: 201))","message":"Hi {{nickname}}","abTestEnabled":true,"autoReplyEnabled":true,
                 "timezone":"Mars/Base","mediaUrl":"http://example.com/a.png","forceRoute":"FAST","channel":"pigeon","abTestMetric":"opens",
                 "senderId":"\(none)","segmentId":"\(none)"}
                """, key: t.a.write)
            #expect(many.status == .unprocessableContent)
            #expect(many.error == "validation_error")
            #expect(many.json.keys == Shape.error)
            #expect(Set(many.fields) == ["name", "message", "messageVariantA", "messageVariantB", "autoReplyEnabled", "timezone", "mediaUrl",
                                         "forceRoute", "channel", "abTestMetric", "senderId", "segmentId"], "\(many.text)")
            // The unknown merge field is named.
            let msg = many.json["details"]?.array.first { $0["field"]?.string == "message" }?["message"]?.string ?? ""
            #expect(msg.contains("{{nickname}}"))
            // No audience at all, nothing required given, too many FAQ pairs.
            let faqs = (1...6).map { #"{"question":"q\#($0)","answer":"a\#($0)"}"# }.joined(separator: ",")
            let empty = try await t.post("/api/campaigns", #"{"autoReplyEnabled":true,"faqReplies":[\#(faqs)]}"#)
            #expect(empty.status == .unprocessableContent)
            #expect(Set(empty.fields) == ["name", "message", "segmentId", "contactFilter", "listIds", "recipients", "faqReplies"], "\(empty.text)")
            // Several audience sources.
            let listId = try await t.list("L")
            let several = try await t.post("/api/campaigns", #"{"name":"N","message":"Hi","contactFilter":{},"listIds":["\#(listId)"],"recipients":[{"phone":"+19195550100"}]}"#)
            #expect(several.status == .unprocessableContent)
            #expect(Set(several.fields) == ["contactFilter", "listIds", "recipients"])
            // Unknown lists are named by index; a custom field that exists is a valid merge field.
            _ = try await t.contact(#"{"phone":"+19195550100","customFields":{"team":"blue"}}"#)
            let lists = try await t.post("/api/campaigns", #"{"name":"N","message":"Go {{team}} {{firstName|there}}","listIds":["\#(listId)","\#(none)"]}"#)
            #expect(lists.status == .unprocessableContent)
            #expect(lists.fields == ["listIds[1]"])
            // A/B with both variants and auto-reply with a response are fine without a message.
            let ok = try await t.post("/api/campaigns", """
                {"name":"AB","abTestEnabled":true,"messageVariantA":"A {{team}}","messageVariantB":"B","autoReplyEnabled":true,"yesResponse":"Great",
                 "abTestMetric":"clickRate","forceRoute":"MMS","channel":"text","timezone":"Asia/Tokyo","mediaUrl":"https://example.com/x.png",
                 "listIds":["\(listId)"],"senderId":"\(t.defaultSenderId)"}
                """)
            #expect(ok.status == .created, "\(ok.text)")
            #expect(ok.json["abTestEnabled"]?.bool == true && ok.json["abTestMetric"]?.string == "clickRate" && ok.json["forceRoute"]?.string == "MMS")
            // A/B needs both variants; a variant's unknown merge field names the variant.
            let ab = try await t.post("/api/campaigns", #"{"name":"AB","abTestEnabled":true,"messageVariantA":"A {{shoeSize}}","listIds":["\#(listId)"]}"#)
            #expect(Set(ab.fields) == ["messageVariantA", "messageVariantB"])
            // Blank FAQ parts are named; five pairs are allowed.
            let five = (1...5).map { #"{"question":"q\#($0)","answer":"a\#($0)"}"# }.joined(separator: ",")
            let faq = try await t.post("/api/campaigns", #"{"name":"F","message":"Hi","listIds":["\#(listId)"],"autoReplyEnabled":true,"faqReplies":[\#(five),{"question":"","answer":" "}]}"#)
            #expect(Set(faq.fields) == ["faqReplies", "faqReplies[5].question", "faqReplies[5].answer"], "\(faq.text)")
            let faqOK = try await t.post("/api/campaigns/draft", #"{"autoReplyEnabled":true,"faqReplies":[\#(five)],"abTestSamplePercent":0,"name":"\#(String(repeating: "y", count: 201))"}"#)
            #expect(Set(faqOK.fields) == ["abTestSamplePercent", "name"], "\(faqOK.text)")
            // Wrong types are 400 naming the field.
            let nested = try await t.post("/api/campaigns", #"{"name":"x","message":"Hi","recipients":[{"phone":5}]}"#)
            #expect(nested.status == .badRequest)
            #expect(nested.fields == ["recipients[0].phone"])
            #expect(try await t.post("/api/campaigns", "[]").status == .badRequest)
            #expect(try await t.post("/api/campaigns", "{not json").error == "invalid_request")
            let types = try await t.post("/api/campaigns", #"{"name":5,"message":"Hi",\#(Self.filterVIP)}"#)
            #expect(types.status == .badRequest && types.error == "invalid_request")
            #expect(types.fields == ["name"])
            // Drafts check types and referenced ids, not launch rules.
            let draft = try await t.post("/api/campaigns/draft", #"{"segmentId":"\#(none)","senderId":"\#(none)","mediaUrl":"ftp://x/y","message":"{{nickname}}"}"#)
            #expect(draft.status == .unprocessableContent)
            #expect(Set(draft.fields) == ["segmentId", "senderId", "mediaUrl"])
            // Nothing was created by the failures.
            #expect(try await t.get("/api/campaigns").json.array.count == 1)
        }
    }

    @Test("inline recipients: invalid phones are a 422 listing them unless ignoreInvalidPhoneNumbers", arguments: TestEngine.available)
    func inlineRecipients(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let body = #""name":"Inline","message":"Hi {{firstName}}","recipients":[{"phone":"919-555-0111","firstName":"Ann","customFields":{"team":"red"}},{"phone":"12"},{"phone":"not a phone"}]"#
            let bad = try await t.post("/api/campaigns", "{\(body)}")
            #expect(bad.status == .unprocessableContent)
            #expect(bad.fields == ["recipients[1].phone", "recipients[2].phone"])
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 0)
            #expect(try await t.get("/api/campaigns").json == .array([]))
            let ok = try await t.post("/api/campaigns", #"{\#(body),"ignoreInvalidPhoneNumbers":true}"#)
            #expect(ok.status == .created, "\(ok.text)")
            #expect(ok.json["status"]?.string == "pending")
            let contacts = try await t.get("/api/contacts").json["data"]?.array ?? []
            #expect(contacts.count == 1)
            #expect(contacts.first?["phone"]?.string == "+19195550111")
            #expect(contacts.first?["firstName"]?.string == "Ann")
            #expect(contacts.first?["customFields"] == .object(["team": .string("red")]))
            let est = try await t.get("/api/campaigns/\(ok.json["id"]!.string!)/estimate")
            #expect(est.json["audienceSize"]?.int == 1 && est.json["recipients"]?.int == 1)
            // A recipient without a phone is an invalid phone too: reported, or ignored on request.
            let noPhone = #""name":"NoPhone","message":"Hi","recipients":[{"phone":"+19195550112"},{"firstName":"Nobody"},{"phone":" "}]"#
            let missing = try await t.post("/api/campaigns", "{\(noPhone)}")
            #expect(missing.status == .unprocessableContent)
            #expect(missing.fields == ["recipients[1].phone", "recipients[2].phone"])
            let ignored = try await t.post("/api/campaigns", #"{\#(noPhone),"ignoreInvalidPhoneNumbers":true}"#)
            #expect(ignored.status == .created, "\(ignored.text)")
            #expect(try await t.get("/api/campaigns/\(ignored.json["id"]?.string ?? "-")/estimate").json["recipients"]?.int == 1)
            _ = try await t.delete("/api/contacts/\(try #require(try await t.storage.contacts.find(t.orgA, phone: "+19195550112")).id)")
            // An inline recipient that already exists is merged, not duplicated.
            _ = try await t.launchCampaign(#"{"name":"Again","message":"Hi","recipients":[{"phone":"+19195550111","lastName":"Lee"}],"acknowledgeDuplicateSend":true}"#)
            let after = try await t.get("/api/contacts").json["data"]?.array ?? []
            #expect(after.count == 1)
            #expect(after.first?["lastName"]?.string == "Lee" && after.first?["firstName"]?.string == "Ann")
        }
    }

    @Test("a draft with inline recipients keeps them through PATCH and promotion", arguments: TestEngine.available)
    func draftInline(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let bad = try await t.post("/api/campaigns/draft", #"{"recipients":[{"phone":"+19195550161"},{"phone":"12"}]}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.fields == ["recipients[1].phone"])
            let id = try await t.draftCampaign(#"{"name":"D","recipients":[{"phone":"+19195550161","firstName":"Kim"},{"phone":"+19195550162"}]}"#)
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 2)
            let patched = try await t.patch("/api/campaigns/\(id)", #"{"message":"Hi {{firstName|there}}"}"#)
            #expect(patched.status == .ok)
            #expect(try await t.get("/api/campaigns/\(id)/estimate").json["recipients"]?.int == 2)
            let launched = try await t.post("/api/campaigns", #"{"draftId":"\#(id)"}"#)
            #expect(launched.status == .created, "\(launched.text)")
            #expect(launched.json["id"]?.string == id && launched.json["status"]?.string == "pending")
            #expect(try await t.get("/api/campaigns/\(id)/estimate").json["recipients"]?.int == 2)
        }
    }

    @Test("another organization's segment, list and sender are unknown references (422)", arguments: TestEngine.available)
    func foreignReferences(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let seg = try await t.post("/api/segments", #"{"name":"B","filter":{}}"#, key: t.b.admin).json["id"]!.string!
            let list = try await t.list("B", key: t.b.admin)
            let sender = try await t.get("/api/senders", key: t.b.admin).json[0]?["id"]?.string ?? UUID().uuidString.lowercased()
            let r1 = try await t.post("/api/campaigns", #"{"name":"N","message":"Hi","segmentId":"\#(seg)","senderId":"\#(sender)"}"#)
            #expect(r1.status == .unprocessableContent)
            #expect(Set(r1.fields) == ["segmentId", "senderId"])
            let r2 = try await t.post("/api/campaigns", #"{"name":"N","message":"Hi","listIds":["\#(list)"]}"#)
            #expect(r2.fields == ["listIds[0]"])
            let r3 = try await t.post("/api/campaigns/draft", #"{"contactFilter":{"listIds":["\#(list)"]}}"#)
            #expect(r3.status == .unprocessableContent)
            #expect(r3.fields == ["contactFilter.listIds"])
            #expect(try await t.get("/api/campaigns").json == .array([]))
        }
    }

    @Test("audience by segment, contactFilter, listIds and recipients", arguments: TestEngine.available)
    func audiences(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let a = try await t.contact(#"{"phone":"+19195550101","tags":["vip"],"state":"NC"}"#)["id"]!.string!
            _ = try await t.contact(#"{"phone":"+19195550102","tags":["vip"],"state":"SC"}"#)
            _ = try await t.contact(#"{"phone":"+19195550103","state":"NC"}"#)
            let seg = try await t.post("/api/segments", #"{"name":"NC","filter":{"state":["NC"]}}"#)
            try #require(seg.status == .created, "\(seg.text)")
            let listId = try await t.list("One")
            let add = try await t.post("/api/lists/\(listId)/contacts", #"{"contactIds":["\#(a)"]}"#)
            try #require(add.status == .ok, "\(add.text)")
            for (audience, size) in [(#""segmentId":"\#(seg.json["id"]!.string!)""#, 2), (#""contactFilter":{"tags":["vip"]}"#, 2),
                                     (#""listIds":["\#(listId)"]"#, 1), (#""recipients":[{"phone":"+19195550104"},{"phone":"+19195550105"},{"phone":"+19195550106"}]"#, 3)] {
                let c = try await t.launchCampaign(#"{"name":"A","message":"Hi",\#(audience),"scheduledFor":"2031-01-01T00:00:00Z"}"#)
                #expect(c["status"]?.string == "scheduled")
                let e = try await t.get("/api/campaigns/\(c["id"]!.string!)/estimate", key: t.a.read)
                #expect(e.status == .ok)
                #expect(e.json["recipients"]?.int == size, "\(audience)")
                let pre = try await t.post("/api/campaigns/estimate", #"{"message":"Hi",\#(audience)}"#)
                #expect(pre.json["recipients"]?.int == size, "\(audience)")
            }
            // A segment in use by a scheduled campaign cannot be deleted.
            #expect(try await t.delete("/api/segments/\(seg.json["id"]!.string!)").error == "invalid_state")
        }
    }

    @Test("credits billing: insufficient_credits below the estimate, success with enough", arguments: TestEngine.available)
    func credits(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            for i in 1...3 { _ = try await t.contact(#"{"phone":"+1919555012\#(i)","tags":["vip"]}"#) }
            let body = #"{"name":"Paid","message":"Hello there",\#(Self.filterVIP)}"#
            // Unlimited: nothing is checked.
            let est0 = try await t.post("/api/campaigns/estimate", body)
            #expect(est0.json["credits"]?.int == 3 && est0.json["sufficientCredits"]?.bool == true)
            let mode = try await t.patch("/api/organization", #"{"billingMode":"credits"}"#)
            try #require(mode.status == .ok, "\(mode.text)")
            let topUp = try await t.post("/api/organization/credits", #"{"amount":2,"reason":"test"}"#)
            try #require(topUp.status == .ok || topUp.status == .created, "\(topUp.text)")
            let est = try await t.post("/api/campaigns/estimate", body)
            #expect(est.json["creditBalance"]?.int == 2 && est.json["sufficientCredits"]?.bool == false)
            let short = try await t.post("/api/campaigns", body)
            #expect(short.status == .unprocessableContent)
            #expect(short.error == "insufficient_credits")
            #expect(short.json.keys == Shape.error)
            #expect(try await t.get("/api/campaigns").json == .array([]))
            // A draft is not checked.
            let draft = try await t.post("/api/campaigns/draft", body)
            #expect(draft.status == .created)
            _ = try await t.post("/api/organization/credits", #"{"amount":1,"reason":"test"}"#)
            #expect(try await t.post("/api/campaigns/estimate", body).json["sufficientCredits"]?.bool == true)
            let ok = try await t.post("/api/campaigns", body)
            #expect(ok.status == .created)
            #expect(ok.json["status"]?.string == "pending")
        }
    }

    /// Records a message of campaign `campaignId` to the contact with `phone` as sent now.
    static func recordSent(_ t: TestApp, campaignId: String, phone: String) async throws {
        let campaignKey = try await t.storage.campaigns.get(t.orgA, id: campaignId).key
        let contact = try #require(try await t.storage.contacts.find(t.orgA, phone: phone))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let orgKey = t.orgA.key
        try await t.storage.db.transaction { c in
            _ = try await c.execute("""
                INSERT INTO campaign_messages (org_id, campaign_id, contact_id, phone, status, sent_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'sent', ?, ?, ?)
                """, [.int(orgKey), .int(campaignKey), .int(contact.key), .text(contact.phone), .int(now), .int(now), .int(now)])
        }
    }

    @Test("duplicate_send (409) when recipients got a message today from another campaign; acknowledgeDuplicateSend launches", arguments: TestEngine.available)
    func duplicateSend(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            _ = try await t.contact(#"{"phone":"+19195550131","tags":["vip"]}"#)
            _ = try await t.contact(#"{"phone":"+19195550132","tags":["vip"]}"#)
            let first = try await t.launchCampaign(#"{"name":"First","message":"Hi",\#(Self.filterVIP)}"#)
            let firstId = first["id"]!.string!
            // Nothing sent yet: no overlap.
            let clean = try await t.launchCampaign(#"{"name":"Clean","message":"Hi",\#(Self.filterVIP)}"#)
            #expect(clean["status"]?.string == "pending")
            try await Self.recordSent(t, campaignId: firstId, phone: "+19195550131")
            let body = #""name":"Second","message":"Hi",\#(Self.filterVIP)"#
            let r = try await t.post("/api/campaigns", "{\(body)}")
            #expect(r.status == .conflict)
            #expect(r.error == "duplicate_send")
            #expect(r.json.keys == Shape.error)
            let details = r.json["details"]?.array ?? []
            #expect(details.first?["field"]?.string == "audience")
            #expect(details.first?["message"]?.string?.hasPrefix("1 ") == true, "\(r.text)")
            #expect(details.contains { ($0["message"]?.string ?? "").contains(firstId) }, "\(r.text)")
            #expect(!details.contains { ($0["message"]?.string ?? "").contains(clean["id"]!.string!) })
            // A campaign scheduled for another day is checked against that day, not today.
            let nextWeek = rfc3339(Date().addingTimeInterval(7 * 86_400))
            let later = try await t.post("/api/campaigns", #"{\#(body),"scheduledFor":"\#(nextWeek)"}"#)
            #expect(later.status == .created, "\(later.text)")
            #expect(later.json["status"]?.string == "scheduled")
            // An audience without the contact does not clash.
            let other = try await t.post("/api/campaigns", #"{"name":"Other","message":"Hi","recipients":[{"phone":"+19195550132"}]}"#)
            #expect(other.status == .created)
            // Promoting a draft clashes the same way.
            let draft = try await t.draftCampaign("{\(body)}")
            #expect(try await t.post("/api/campaigns", #"{"draftId":"\#(draft)"}"#).error == "duplicate_send")
            let ack = try await t.post("/api/campaigns", #"{\#(body),"acknowledgeDuplicateSend":true}"#)
            #expect(ack.status == .created)
            #expect(ack.json["status"]?.string == "pending")
        }
    }

    /// API.md §1: a refused request changes nothing. Inline recipients become contacts only
    /// when the launch is accepted.
    @Test("a launch refused for credits or duplicate_send writes none of its inline recipients", arguments: TestEngine.available)
    func refusedLaunchWritesNothing(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            _ = try await t.contact(#"{"phone":"+19195550144","firstName":"Kept","tags":["vip"]}"#)
            let first = try await t.launchCampaign(#"{"name":"First","message":"Hi",\#(Self.filterVIP)}"#)
            try await Self.recordSent(t, campaignId: first["id"]!.string!, phone: "+19195550144")
            let clash = try await t.post("/api/campaigns", #"{"name":"Dup","message":"Hi","recipients":[{"phone":"+19195550144","firstName":"Overwritten","tags":["leaked"]},{"phone":"+19195550145"}]}"#)
            #expect(clash.status == .conflict, "\(clash.text)")
            #expect(clash.error == "duplicate_send")
            let kept = try #require(try await t.storage.contacts.find(t.orgA, phone: "+19195550144"))
            #expect(kept.firstName == "Kept")
            #expect(kept.tags == ["vip"])
            #expect(try await t.storage.contacts.find(t.orgA, phone: "+19195550145") == nil)

            #expect(try await t.patch("/api/organization", #"{"billingMode":"credits"}"#).status == .ok)
            let short = try await t.post("/api/campaigns", #"{"name":"Short","message":"Hi","recipients":[{"phone":"+19195550950","firstName":"New"},{"phone":"+19195550951"}]}"#)
            #expect(short.error == "insufficient_credits", "\(short.text)")
            #expect(try await t.storage.contacts.find(t.orgA, phone: "+19195550950") == nil)
            #expect(try await t.storage.contacts.find(t.orgA, phone: "+19195550951") == nil)

            // Accepted: the recipients are written, merged into the existing contact.
            _ = try await t.post("/api/organization/credits", #"{"amount":10,"reason":"test"}"#)
            let ok = try await t.post("/api/campaigns", #"{"name":"Ok","message":"Hi","recipients":[{"phone":"+19195550950","firstName":"New"}]}"#)
            #expect(ok.status == .created, "\(ok.text)")
            #expect(try await t.storage.contacts.find(t.orgA, phone: "+19195550950")?.firstName == "New")
        }
    }

    @Test("inline recipients follow the contact field rules: every bad field reported, nothing written", arguments: TestEngine.available)
    func inlineRecipientRules(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let long = String(repeating: "n", count: 101)
            let r = try await t.post("/api/campaigns/draft", #"""
                {"name":"x","recipients":[{"phone":"+12025550123","firstName":"\#(long)","email":"nope","timezone":"Mars/Base","tags":["a;b"],
                 "customFields":{"phone":"x","a b":"y","obj":{"k":1},"ok":" fine "}},{"phone":"+12025550124","firstName":"  Ada  "}]}
                """#)
            #expect(r.status == .unprocessableContent, "\(r.text)")
            #expect(Set(r.fields) == ["recipients[0].firstName", "recipients[0].email", "recipients[0].timezone", "recipients[0].tags[0]",
                                      "recipients[0].customFields.phone", "recipients[0].customFields.a b", "recipients[0].customFields.obj"], "\(r.text)")
            #expect(try await t.storage.contacts.find(t.orgA, phone: "+12025550123") == nil)
            #expect(try await t.storage.contacts.find(t.orgA, phone: "+12025550124") == nil)
            let ok = try await t.post("/api/campaigns/draft", #"{"name":"x","recipients":[{"phone":"+12025550124","firstName":"  Ada  ","customFields":{"ok":" fine "}}]}"#)
            #expect(ok.status == .created, "\(ok.text)")
            let contact = try #require(try await t.storage.contacts.find(t.orgA, phone: "+12025550124"))
            #expect(contact.firstName == "Ada" && contact.customFields == ["ok": "fine"])
        }
    }

    @Test("a bad scheduledFor or an unknown draftId is reported with the body's other failing fields", arguments: TestEngine.available)
    func scheduledForAndDraftIdWithOthers(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let bad = #""timezone":"Mars/Base","scheduledFor":"2027-01-01T10:00:00","contactFilter":{},"message":"x""#
            for path in ["/api/campaigns", "/api/campaigns/draft", "/api/campaigns/estimate"] {
                let r = try await t.post(path, #"{"name":"a",\#(bad)}"#)
                #expect(r.status == .unprocessableContent, "\(path): \(r.text)")
                #expect(Set(r.fields).isSuperset(of: ["scheduledFor", "timezone"]), "\(path): \(r.text)")
            }
            let draft = try await t.draftCampaign(#"{"name":"d","message":"x"}"#)
            let patched = try await t.patch("/api/campaigns/\(draft)", #"{"scheduledFor":"tomorrow","timezone":"Mars/Base"}"#)
            #expect(Set(patched.fields) == ["scheduledFor", "timezone"], "\(patched.text)")
            let unknown = try await t.post("/api/campaigns", #"{"draftId":"00000000-0000-4000-8000-000000000000","name":"","timezone":"Mars/Base","message":"x","contactFilter":{}}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect(Set(unknown.fields).isSuperset(of: ["draftId", "name", "timezone"]), "\(unknown.text)")
            #expect(try await t.get("/api/campaigns").json.array.count == 1)
        }
    }

    @Test("a list filter of more than 100 tags or states is a 400, and one issue stands for too many inline recipients")
    func listAndRecipientCaps() async throws {
        try await TestApp.run(.sqlite) { t in
            let tags = (0...100).map { "t\($0)" }.joined(separator: ",")
            for path in ["/api/contacts?includeTotal=true&tags=\(tags)", "/api/contacts?state=\(tags)", "/api/contacts/export?tags=\(tags)"] {
                let r = try await t.get(path)
                #expect(r.status == .badRequest, "\(path)")
                #expect(r.error == "invalid_request")
            }
            #expect(try await t.get("/api/contacts?tags=" + (0..<100).map { "t\($0)" }.joined(separator: ",")).status == .ok)
            let many = "[" + Array(repeating: "{}", count: 10_001).joined(separator: ",") + "]"
            let r = try await t.post("/api/campaigns/draft", #"{"name":"x","recipients":\#(many)}"#)
            #expect(r.status == .unprocessableContent)
            let details = r.json["details"]?.array ?? []
            #expect(details.count == 1, "\(r.text.prefix(300))")
            #expect(details.first?["field"]?.string == "recipients")
        }
    }

    @Test("duplicate_send counts only messages sent on the organization's local day and not failed ones", arguments: TestEngine.available)
    func duplicateSendDay(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            _ = try await t.contact(#"{"phone":"+19195550171","tags":["vip"]}"#)
            _ = try await t.contact(#"{"phone":"+19195550172","tags":["vip"]}"#)
            let first = try await t.launchCampaign(#"{"name":"First","message":"Hi",\#(Self.filterVIP)}"#)["id"]!.string!
            let campaignKey = try await t.storage.campaigns.get(t.orgA, id: first).key
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "America/New_York")!
            let dayStart = Int64(calendar.startOfDay(for: Date()).timeIntervalSince1970 * 1000)
            let orgKey = t.orgA.key
            func insert(_ phone: String, status: String, sentAt: Int64) async throws {
                let contact = try #require(try await t.storage.contacts.find(t.orgA, phone: phone))
                try await t.storage.db.transaction { c in
                    _ = try await c.execute("""
                        INSERT INTO campaign_messages (org_id, campaign_id, contact_id, phone, status, sent_at, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, [.int(orgKey), .int(campaignKey), .int(contact.key), .text(phone), .text(status), .int(sentAt), .int(sentAt), .int(sentAt)])
                }
            }
            // Sent just before local midnight, and failed today: neither is an overlap.
            try await insert("+19195550171", status: "delivered", sentAt: dayStart - 60_000)
            try await insert("+19195550172", status: "failed", sentAt: dayStart + 1000)
            let ok = try await t.post("/api/campaigns", #"{"name":"Second","message":"Hi",\#(Self.filterVIP)}"#)
            #expect(ok.status == .created, "\(ok.text)")
        }
    }

    @Test("PATCH may clear a field with null and use the phoneNumberId alias", arguments: TestEngine.available)
    func patchNull(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let s = try await t.post("/api/senders", #"{"channel":"text","address":"+18885550124","provider":"simulator"}"#)
            try #require(s.status == .created, "\(s.text)")
            let sid = s.json["id"]!.string!
            let id = try await t.draftCampaign(#"{"name":"N","mediaUrl":"https://example.com/a.png","senderId":"\#(t.defaultSenderId)"}"#)
            let r = try await t.patch("/api/campaigns/\(id)", #"{"mediaUrl":null,"phoneNumberId":"\#(sid)"}"#)
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.json.raw("mediaUrl") == .null)
            #expect(r.json["senderId"]?.string == sid)
            #expect(r.json["name"]?.string == "N")
            let g = try await t.get("/api/campaigns/\(id)")
            #expect(g.json["phoneNumber"]?["id"]?.string == sid)
        }
    }

    @Test("cross-organization ids are 404 on every campaign route; a read key is 403 on writes", arguments: TestEngine.available)
    func isolationAndRoles(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let id = try await t.draftCampaign(#"{"name":"Mine","message":"Hi",\#(Self.filterVIP)}"#)
            let routes: [(HTTPRequestMethod, String, String?)] = [
                (.get, "/api/campaigns/\(id)", nil), (.patch, "/api/campaigns/\(id)", #"{"name":"x"}"#), (.delete, "/api/campaigns/\(id)", nil),
                (.post, "/api/campaigns/\(id)/pause", nil), (.post, "/api/campaigns/\(id)/resume", nil), (.post, "/api/campaigns/\(id)/cancel", nil),
                (.post, "/api/campaigns/\(id)/unschedule", nil), (.post, "/api/campaigns/\(id)/duplicate", nil),
                (.get, "/api/campaigns/\(id)/estimate", nil),
            ]
            for (method, path, body) in routes {
                let r = try await t.call(method.value, path, key: t.b.admin, body: body)
                #expect(r.status == .notFound, "\(method) \(path): \(r.text)")
                #expect(r.error == "not_found")
            }
            let promote = try await t.post("/api/campaigns", #"{"draftId":"\#(id)","name":"x","message":"Hi",\#(Self.filterVIP)}"#, key: t.b.admin)
            #expect(promote.status == .unprocessableContent && promote.fields == ["draftId", "senderId"], "\(promote.text)")  // organization B has no text sender
            #expect(try await t.get("/api/campaigns/\(id)").json["name"]?.string == "Mine")
            // Read key: 403 on every write.
            let writes: [(HTTPRequestMethod, String, String?)] = [
                (.post, "/api/campaigns", #"{"name":"x","message":"Hi",\#(Self.filterVIP)}"#), (.post, "/api/campaigns/draft", "{}"),
                (.patch, "/api/campaigns/\(id)", #"{"name":"x"}"#), (.delete, "/api/campaigns/\(id)", nil),
                (.post, "/api/campaigns/\(id)/pause", nil), (.post, "/api/campaigns/\(id)/resume", nil), (.post, "/api/campaigns/\(id)/cancel", nil),
                (.post, "/api/campaigns/\(id)/unschedule", nil), (.post, "/api/campaigns/\(id)/duplicate", nil),
            ]
            for (method, path, body) in writes {
                let r = try await t.call(method.value, path, key: t.a.read, body: body)
                #expect(r.status == .forbidden, "\(method) \(path): \(r.text)")
                #expect(r.error == "forbidden")
            }
            #expect(try await t.get("/api/campaigns", key: t.a.read).json.ids == [id])
            #expect(try await t.get("/api/campaigns/\(id)", key: t.a.read).json["name"]?.string == "Mine")
            #expect(try await t.call(.get, "/api/campaigns", anonymous: true).status == .unauthorized)
        }
    }
}

/// A method name for the route tables above (keeps them readable).
enum HTTPRequestMethod: CustomStringConvertible {
    case get, post, patch, delete
    var value: HTTPRequest.Method {
        switch self {
        case .get: .get
        case .post: .post
        case .patch: .patch
        case .delete: .delete
        }
    }
    var description: String { "\(value)" }
}
