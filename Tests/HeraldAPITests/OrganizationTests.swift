import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// API.md §2: organization, credits, API keys.
@Suite("Organization, credits and API keys", .timeLimit(.minutes(10)))
struct OrganizationTests {
    @Test("GET /api/organization has the exact shape and the bootstrap defaults", arguments: TestEngine.available)
    func get(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let r = try await t.get("/api/organization", key: t.a.read)
            #expect(r.status == .ok)
            #expect(r.header("Content-Type")?.hasPrefix("application/json") == true)
            let o = r.json
            #expect(o.keys == Shape.organization)
            #expect(o["id"]?.string == t.orgA.id)
            #expect(o["name"]?.string == "Default")
            #expect(o["timezone"]?.string == "America/New_York")
            #expect(o["defaultCountry"]?.string == "US")
            #expect(o["defaultSenderId"]?.string == t.defaultSenderId)
            #expect(o["creditBalance"]?.int == 0)
            #expect(o["billingMode"]?.string == "unlimited")
            #expect(o["quietHours"] == .object(["start": .string("08:00"), "end": .string("21:00")]))
            let optOut = o["optOutConfirmation"]?.string ?? ""
            let help = o["helpResponse"]?.string ?? ""
            #expect(!optOut.isEmpty && !help.isEmpty)
            #expect(isInstant(o["createdAt"]))
        }
    }

    @Test("PATCH /api/organization updates every setting (admin)", arguments: TestEngine.available)
    func patch(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let sender = try await t.post("/api/senders", #"{"address":"+19195550177","provider":"simulator"}"#).json
            let senderId = try #require(sender["id"]?.string)
            let r = try await t.patch("/api/organization", """
                {"name":"Acme","timezone":"America/Chicago","defaultCountry":"gb","defaultSenderId":"\(senderId)","billingMode":"credits",
                 "quietHours":{"start":"09:30","end":"20:00"},"optOutConfirmation":"Bye","helpResponse":"Help here"}
                """)
            #expect(r.status == .ok, "\(r.text)")
            let o = r.json
            #expect(o.keys == Shape.organization)
            #expect(o["name"]?.string == "Acme")
            #expect(o["timezone"]?.string == "America/Chicago")
            #expect(o["defaultCountry"]?.string == "GB")
            #expect(o["defaultSenderId"]?.string == senderId)
            #expect(o["billingMode"]?.string == "credits")
            #expect(o["quietHours"] == .object(["start": .string("09:30"), "end": .string("20:00")]))
            #expect(o["optOutConfirmation"]?.string == "Bye")
            #expect(o["helpResponse"]?.string == "Help here")
            #expect(try await t.get("/api/organization").json == o)
            // The default sender is the one campaigns without a senderId send from, and the one
            // the sender list marks; moving it back moves both.
            func defaults() async throws -> [String] {
                try await t.get("/api/senders").json.array.filter { $0["isDefault"]?.bool == true }.compactMap { $0["id"]?.string }
            }
            #expect(try await defaults() == [senderId])
            #expect(try await t.storage.senders.defaultSender(t.orgA, channel: .text)?.id == senderId)
            #expect(try await t.patch("/api/organization", #"{"defaultSenderId":"\#(t.defaultSenderId)"}"#).status == .ok)
            #expect(try await defaults() == [t.defaultSenderId])
            #expect(try await t.storage.senders.defaultSender(t.orgA, channel: .text)?.id == t.defaultSenderId)
            #expect(try await t.patch("/api/organization", #"{"defaultSenderId":"\#(senderId)"}"#).status == .ok)
            // A partial patch leaves the rest alone.
            let partial = try await t.patch("/api/organization", #"{"quietHours":{"end":"22:15"}}"#).json
            #expect(partial["quietHours"] == .object(["start": .string("09:30"), "end": .string("22:15")]))
            #expect(partial["defaultSenderId"]?.string == senderId)
            #expect(partial["name"]?.string == "Acme")
            // While it has text senders the organization has a default one: clearing it, naming
            // a sender of another channel, or un-defaulting the sender itself is refused.
            #expect(try await t.patch("/api/organization", #"{"defaultSenderId":null}"#).fields == ["defaultSenderId"])
            let email = try #require(try await t.post("/api/senders", #"{"channel":"email","address":"d@example.com","provider":"simulator"}"#).json["id"]?.string)
            #expect(try await t.patch("/api/organization", #"{"defaultSenderId":"\#(email)"}"#).fields == ["defaultSenderId"])
            #expect(try await t.patch("/api/senders/\(senderId)", #"{"isDefault":false}"#).fields == ["isDefault"])
            #expect(try await defaults().sorted() == [email, senderId].sorted())
            #expect(try await t.get("/api/organization").json["defaultSenderId"]?.string == senderId)
            // Organization B is untouched.
            #expect(try await t.get("/api/organization", key: t.b.read).json["name"]?.string == "Other")
        }
    }

    @Test("PATCH /api/organization reports every invalid setting at once (422)", arguments: TestEngine.available)
    func patchValidation(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let otherSender = try await t.post("/api/senders", #"{"address":"+447400123123","provider":"simulator"}"#, key: t.b.admin).json
            let r = try await t.patch("/api/organization", """
                {"name":" ","timezone":"Mars/Base","defaultCountry":"XX","billingMode":"free","quietHours":{"start":"25:00","end":"8pm"},
                 "optOutConfirmation":"","helpResponse":"\(String(repeating: "h", count: 1601))","defaultSenderId":"\(otherSender["id"]?.string ?? "")"}
                """)
            #expect(r.status == .unprocessableContent)
            #expect(r.error == "validation_error")
            #expect(Set(r.fields) == ["name", "timezone", "defaultCountry", "billingMode", "quietHours.start", "quietHours.end",
                                      "optOutConfirmation", "helpResponse", "defaultSenderId"])
            let o = try await t.get("/api/organization").json
            #expect(o["name"]?.string == "Default")
            #expect(o["timezone"]?.string == "America/New_York")
            for bad in ["7:00", "24:00", "12:60", "1200", "ab:cd", "+9:00", "-1:30", " 9:00", "09:+5"] {
                let q = try await t.patch("/api/organization", #"{"quietHours":{"start":"\#(bad)"}}"#)
                #expect(q.fields == ["quietHours.start"], "\(bad)")
            }
            // The window must be able to open: start before end, also against the stored other end.
            #expect(try await t.patch("/api/organization", #"{"quietHours":{"start":"21:00","end":"08:00"}}"#).fields == ["quietHours.end"])
            #expect(try await t.patch("/api/organization", #"{"quietHours":{"start":"22:00"}}"#).fields == ["quietHours.end"])
            #expect(try await t.patch("/api/organization", #"{"quietHours":{"end":"08:00"}}"#).fields == ["quietHours.end"])
            let after = try await t.get("/api/organization").json
            #expect(after["quietHours"] == .object(["start": .string("08:00"), "end": .string("21:00")]))
        }
    }

    @Test("credits: ledger entries with balanceAfter, negative balances refused", arguments: TestEngine.available)
    func credits(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let add = try await t.post("/api/organization/credits", #"{"amount":100,"reason":"purchase"}"#)
            #expect(add.status == .ok)
            #expect(add.json == .object(["creditBalance": .number(100)]))
            let take = try await t.post("/api/organization/credits", #"{"amount":-30,"reason":"correction"}"#)
            #expect(take.json["creditBalance"]?.int == 70)
            let tooMuch = try await t.post("/api/organization/credits", #"{"amount":-71,"reason":"oops"}"#)
            #expect(tooMuch.status == .unprocessableContent)
            #expect(tooMuch.fields == ["amount"])
            #expect(try await t.get("/api/organization").json["creditBalance"]?.int == 70)
            let invalid = try await t.post("/api/organization/credits", #"{"amount":0,"reason":""}"#)
            #expect(invalid.status == .unprocessableContent)
            #expect(Set(invalid.fields) == ["amount", "reason"])
            let missing = try await t.post("/api/organization/credits", #"{}"#)
            #expect(Set(missing.fields) == ["amount", "reason"])
            let ledger = try await t.get("/api/organization/credits/ledger", key: t.a.read)
            #expect(ledger.status == .ok)
            let entries = ledger.json.array
            #expect(entries.count == 2)
            #expect(entries.allSatisfy { $0.keys == Shape.ledger && isUUID($0["id"]) && isInstant($0["createdAt"]) && $0.raw("campaignId") == .null })
            #expect(entries.map { $0["amount"]?.int } == [-30, 100])
            #expect(entries.map { $0["balanceAfter"]?.int } == [70, 100])
            #expect(entries.map { $0["reason"]?.string } == ["correction", "purchase"])
            #expect(try await t.get("/api/organization", key: t.b.read).json["creditBalance"]?.int == 0)
            // Paging walks the ledger newest first without repeats.
            for i in 1...4 { _ = try await t.post("/api/organization/credits", #"{"amount":\#(i),"reason":"r\#(i)"}"#) }
            let walked = try await t.all("/api/organization/credits/ledger", limit: 2)
            #expect(walked.count == 6)
            #expect(Set(walked.ids).count == 6)
            #expect(walked.map { $0["balanceAfter"]?.int ?? 0 } == [80, 76, 73, 71, 70, 100])
        }
    }

    @Test("API keys: create, use, list without secrets, revoke", arguments: TestEngine.available)
    func apiKeys(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let r = try await t.post("/api/api-keys", #"{"name":"ci","role":"write"}"#)
            #expect(r.status == .created)
            let k = r.json
            #expect(k.keys.isSuperset(of: ["id", "name", "role", "key", "createdAt"]))
            #expect(isUUID(k["id"]) && isInstant(k["createdAt"]))
            #expect(k["name"]?.string == "ci" && k["role"]?.string == "write")
            let secret = try #require(k["key"]?.string)
            #expect(secret.range(of: "^hk_[0-9A-Za-z]{32,}$", options: .regularExpression) != nil)
            // The new key works with its role.
            #expect(try await t.post("/api/lists", #"{"name":"by ci"}"#, key: secret).status == .created)
            #expect(try await t.get("/api/api-keys", key: secret).status == .forbidden)
            // Listing never shows a secret.
            let list = try await t.get("/api/api-keys")
            #expect(list.status == .ok)
            #expect(list.json.ids.contains(try #require(k["id"]?.string)))
            #expect(list.json.array.allSatisfy { $0.raw("key") == nil })
            #expect(!list.text.contains(secret))
            #expect(!list.text.contains(TestApp.bootstrapKey))
            // B does not see A's keys, nor can it revoke them.
            #expect(!(try await t.get("/api/api-keys", key: t.b.admin).json.ids.contains(k["id"]?.string ?? "")))
            #expect(try await t.delete("/api/api-keys/\(k["id"]!.string!)", key: t.b.admin).status == .notFound)
            #expect(try await t.get("/api/organization", key: secret).status == .ok)
            // Revoking: 204, then the key is 401 and gone from the list; a second revoke is 404.
            let del = try await t.delete("/api/api-keys/\(k["id"]!.string!)")
            #expect(del.status == .noContent)
            #expect(del.body.readableBytes == 0)
            #expect(try await t.get("/api/organization", key: secret).status == .unauthorized)
            #expect(!(try await t.get("/api/api-keys").json.ids.contains(k["id"]!.string!)))
            #expect(try await t.delete("/api/api-keys/\(k["id"]!.string!)").status == .notFound)
            // Validation.
            let bad = try await t.post("/api/api-keys", #"{"name":"","role":"owner"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields) == ["name", "role"])
            let none = try await t.post("/api/api-keys", #"{}"#)
            #expect(Set(none.fields) == ["name", "role"])
            // Every role can be created, and two keys never collide.
            var secrets: Set<String> = []
            for role in ["read", "write", "admin"] {
                let x = try await t.post("/api/api-keys", #"{"name":"\#(role)","role":"\#(role)"}"#)
                #expect(x.json["role"]?.string == role)
                secrets.insert(x.json["key"]?.string ?? "")
            }
            #expect(secrets.count == 3)
            // The list pages newest first with X-Next-Cursor: every live key once, in the order
            // of the unpaged list.
            let whole = try await t.get("/api/api-keys").json.ids
            #expect(whole.count >= 4)
            for limit in [1, 3] {
                #expect(try await t.all("/api/api-keys", limit: limit).ids == whole)
            }
            let page = try await t.get("/api/api-keys?limit=2")
            #expect(page.json.ids == Array(whole.prefix(2)))
            #expect(page.header("X-Next-Cursor") != nil)
        }
    }
}
