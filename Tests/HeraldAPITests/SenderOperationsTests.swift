import Foundation
import HeraldAPI
import HeraldCore
import HeraldTestSupport
import Prometheus
import Testing

/// API.md §4 senders and §9 operations.
@Suite("Senders and operations", .timeLimit(.minutes(10)))
struct SenderOperationsTests {
    static let typeCases: [(channel: String, address: String, type: String, stored: String)] = [
        ("text", "+19195550177", "longCode", "+19195550177"),
        ("text", "(919) 555-0178", "longCode", "+19195550178"),
        ("text", "+18005550199", "tollFree", "+18005550199"),
        ("text", "+18885550123", "tollFree", "+18885550123"),
        ("text", "12345", "shortCode", "12345"),
        ("text", "HERALD", "alphanumeric", "HERALD"),
        ("whatsapp", "+19195550179", "whatsappNumber", "+19195550179"),
        ("email", "news@example.com", "emailAddress", "news@example.com"),
        ("telegram", "herald_bot", "telegramBot", "herald_bot"),
        ("rcs", "agent-1", "rcsAgent", "agent-1"),
        ("slack", "T012345", "slackWorkspace", "T012345"),
    ]

    @Test("sender type is derived from channel and address", arguments: TestEngine.available)
    func types(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            var channels: Set<String> = ["text"]
            for (channel, address, type, stored) in Self.typeCases {
                let r = try await t.post("/api/senders", #"{"channel":"\#(channel)","address":"\#(address)","provider":"simulator","label":"L","maxPerSecond":5}"#, key: t.a.write)
                #expect(r.status == .created, "\(channel) \(address): \(r.text)")
                #expect(r.json.keys == Shape.sender)
                #expect(r.json["type"]?.string == type, "\(channel) \(address)")
                #expect(r.json["address"]?.string == stored)
                #expect(r.json["channel"]?.string == channel)
                #expect(r.json["maxPerSecond"]?.number == 5)
                // The first sender of a channel is its default.
                #expect(r.json["isDefault"]?.bool == channels.insert(channel).inserted, "\(channel) \(address)")
                #expect(r.json["label"]?.string == "L" && r.json["provider"]?.string == "simulator")
                #expect(isUUID(r.json["id"]) && isInstant(r.json["createdAt"]))
            }
            let defaults = try await t.post("/api/senders", #"{"address":"+19195550180","provider":"simulator"}"#).json
            #expect(defaults["channel"]?.string == "text")
            #expect(defaults.raw("label") == .null)
            #expect(defaults["maxPerSecond"]?.number == 10)
            let all = try await t.all("/api/senders", limit: 3)
            #expect(all.count == Self.typeCases.count + 2) // + the bootstrap sender
            #expect(Set(all.ids).count == all.count)
        }
    }

    @Test("sender validation: unknown provider and bad fields (422), duplicate address (409)", arguments: TestEngine.available)
    func validation(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let r = try await t.post("/api/senders", #"{"channel":"pigeon","provider":"twilio","maxPerSecond":0}"#)
            #expect(r.status == .unprocessableContent)
            #expect(Set(r.fields) == ["channel", "address", "provider", "maxPerSecond"], "\(r.text)")
            let unknownProvider = try await t.post("/api/senders", #"{"address":"+19195550177","provider":"nope"}"#)
            #expect(unknownProvider.status == .unprocessableContent)
            #expect(unknownProvider.fields == ["provider"])
            let badAddress = try await t.post("/api/senders", #"{"channel":"email","address":"nope","provider":"simulator","label":"\#(String(repeating: "l", count: 201))"}"#)
            #expect(Set(badAddress.fields) == ["address", "label"])
            #expect(try await t.post("/api/senders", #"{"address":"TOOLONGSENDERID","provider":"simulator"}"#).fields == ["address"])
            // The bootstrap sender's address (in another format) clashes.
            let dup = try await t.post("/api/senders", #"{"address":"(202) 555-0100","provider":"simulator"}"#)
            #expect(dup.status == .conflict)
            #expect(dup.error == "conflict")
            #expect(dup.fields == ["address"])
            // The same address in organization B, or on another channel, is fine.
            #expect(try await t.post("/api/senders", #"{"address":"+12025550100","provider":"simulator"}"#, key: t.b.write).status == .created)
            #expect(try await t.post("/api/senders", #"{"channel":"whatsapp","address":"+12025550100","provider":"simulator"}"#).status == .created)
        }
    }

    @Test("isDefault moves the organization's defaultSenderId; patch and delete", arguments: TestEngine.available)
    func defaults(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let r = try await t.post("/api/senders", #"{"address":"+19195550177","provider":"simulator","isDefault":true}"#)
            let id = try #require(r.json["id"]?.string)
            #expect(r.json["isDefault"]?.bool == true)
            #expect(try await t.get("/api/organization").json["defaultSenderId"]?.string == id)
            #expect(try await t.get("/api/senders/\(t.defaultSenderId)").json["isDefault"]?.bool == false)
            // Back to the bootstrap sender through PATCH.
            let p = try await t.patch("/api/senders/\(t.defaultSenderId)", #"{"isDefault":true,"label":null,"maxPerSecond":2.5}"#, key: t.a.write)
            #expect(p.status == .ok)
            #expect(p.json.keys == Shape.sender)
            #expect(p.json["isDefault"]?.bool == true && p.json.raw("label") == .null && p.json["maxPerSecond"]?.number == 2.5)
            #expect(try await t.get("/api/organization").json["defaultSenderId"]?.string == t.defaultSenderId)
            #expect(try await t.get("/api/senders/\(id)", key: t.a.read).json["isDefault"]?.bool == false)
            // A non-text default does not move the organization's (text) default.
            _ = try await t.post("/api/senders", #"{"channel":"email","address":"a@example.com","provider":"simulator","isDefault":true}"#)
            #expect(try await t.get("/api/organization").json["defaultSenderId"]?.string == t.defaultSenderId)
            // PATCH: the address re-derives the type; channel cannot change; conflicts are 409.
            let moved = try await t.patch("/api/senders/\(id)", #"{"address":"+18005550100"}"#)
            #expect(moved.json["type"]?.string == "tollFree")
            #expect(try await t.patch("/api/senders/\(id)", #"{"channel":"email"}"#).fields == ["channel"])
            #expect(try await t.patch("/api/senders/\(id)", #"{"address":"+12025550100"}"#).status == .conflict)
            #expect(Set(try await t.patch("/api/senders/\(id)", #"{"provider":"x","maxPerSecond":-1}"#).fields) == ["provider", "maxPerSecond"])
            // Deleting the default sender makes the channel's oldest other sender the default.
            #expect(try await t.delete("/api/senders/\(t.defaultSenderId)").status == .noContent)
            #expect(try await t.get("/api/organization").json["defaultSenderId"]?.string == id)
            #expect(try await t.get("/api/senders/\(id)").json["isDefault"]?.bool == true)
            #expect(try await t.get("/api/senders/\(t.defaultSenderId)").status == .notFound)
            #expect(try await t.delete("/api/senders/\(id)").status == .noContent)
            #expect(try await t.get("/api/organization").json.raw("defaultSenderId") == .null)
        }
    }

    @Test("a sender a scheduled or running campaign uses cannot be deleted; a launch with no sender is refused", arguments: TestEngine.available)
    func senderInUse(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            _ = try await t.contact(#"{"phone":"+19195550181","tags":["vip"]}"#)
            let named = try #require(try await t.post("/api/senders", #"{"address":"+19195550178","provider":"simulator"}"#).json["id"]?.string)
            let later = #""scheduledFor":"2031-01-01T00:00:00Z","contactFilter":{"tags":["vip"]}"#
            let c1 = try await t.post("/api/campaigns", #"{"name":"Named","message":"Hi","senderId":"\#(named)",\#(later)}"#)
            try #require(c1.status == .created, "\(c1.text)")
            let refused = try await t.delete("/api/senders/\(named)")
            #expect(refused.status == .badRequest)
            #expect(refused.error == "invalid_state")
            #expect(try await t.get("/api/senders/\(named)").status == .ok)
            // A campaign on the default: the last text sender cannot go, one of two can.
            let c2 = try await t.post("/api/campaigns", #"{"name":"Default","message":"Hi",\#(later)}"#)
            try #require(c2.status == .created, "\(c2.text)")
            #expect(try await t.post("/api/campaigns/\(c1.json["id"]!.string!)/cancel", "").status == .ok)
            #expect(try await t.delete("/api/senders/\(named)").status == .noContent)
            #expect(try await t.delete("/api/senders/\(t.defaultSenderId)").error == "invalid_state")
            #expect(try await t.post("/api/campaigns/\(c2.json["id"]!.string!)/cancel", "").status == .ok)
            #expect(try await t.delete("/api/senders/\(t.defaultSenderId)").status == .noContent)
            // No text sender left: a launch without senderId is refused up front (a draft is fine).
            let none = try await t.post("/api/campaigns", #"{"name":"None","message":"Hi","contactFilter":{"tags":["vip"]}}"#)
            #expect(none.status == .unprocessableContent, "\(none.text)")
            #expect(none.fields == ["senderId"])
            #expect(try await t.post("/api/campaigns/draft", #"{"name":"None","message":"Hi"}"#).status == .created)
        }
    }

    @Test("configured providers are accepted", arguments: TestEngine.available)
    func configuredProvider(engine: TestEngine) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("herald-config-\(UUID().uuidString).json")
        try Data(#"{"providers":{"twilio-main":{"type":"twilio","authToken":"${NOPE}"}}}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let providers = try HeraldConfiguration.load(environment: ["NOPE": "token"], configFile: file.path).providers
        #expect(providers["twilio-main"]?.settings["authToken"] == "token")
        try await TestApp.run(engine, configure: { $0.providers = providers }) { t in
            let r = try await t.post("/api/senders", #"{"address":"+19195550177","provider":"twilio-main"}"#)
            #expect(r.status == .created)
            #expect(r.json["provider"]?.string == "twilio-main")
        }
    }

    @Test("healthz, readyz, metrics and openapi.json need no key", arguments: TestEngine.available)
    func operations(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let health = try await t.call(.get, "/healthz", anonymous: true)
            #expect(health.status == .ok)
            #expect(health.json == .object(["status": .string("ok")]))
            let ready = try await t.call(.get, "/readyz", anonymous: true)
            #expect(ready.status == .ok)
            #expect(ready.json["status"]?.string == "ready")
            #expect((ready.json["schemaVersion"]?.int ?? 0) >= 1)
            let unit: String = "total", help: String = "a test marker"
            t.registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "herald", subsystem: "test", metricName: "marker", unitName: unit, helpText: help))
                .increment(by: Int64(3))
            let metrics = try await t.call(.get, "/metrics", anonymous: true)
            #expect(metrics.status == .ok)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains("# TYPE herald_test_marker_total counter"))
            #expect(metrics.text.contains("herald_test_marker_total 3"))
            let openapi = try await t.call(.get, "/openapi.json", anonymous: true)
            #expect(openapi.status == .ok)
            #expect(openapi.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(openapi.json["openapi"]?.string?.hasPrefix("3.") == true)
            #expect(openapi.json["paths"]?.keys.isEmpty == false)
            for r in [health, ready, metrics, openapi] { #expect(r.header("X-Request-Id") != nil) }
        }
    }
}
