import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// API.md §3: contacts and tags.
@Suite("Contacts", .timeLimit(.minutes(10)))
struct ContactTests {
    @Test("POST creates (201) then merges by phone (200): fields overwrite, tags added, customFields merged", arguments: TestEngine.available)
    func createAndMerge(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let r = try await t.post("/api/contacts", """
                {"phone":"(919) 555-0143","firstName":" Ada ","lastName":"Lovelace","email":"ada@example.com","city":"Raleigh","state":"NC",
                 "zip":"27601","timezone":"America/New_York","tags":["VIP"," donor "],"customFields":{"team":"blue","score":42,"member":true}}
                """, key: t.a.write)
            #expect(r.status == .created)
            let c = r.json
            #expect(c.keys == Shape.contact.union(["outcome"]))
            #expect(c["outcome"]?.string == "created")
            #expect(isUUID(c["id"]) && isInstant(c["createdAt"]) && isInstant(c["updatedAt"]))
            #expect(c["phone"]?.string == "+19195550143")
            #expect(c["firstName"]?.string == "Ada")
            #expect(c["lastName"]?.string == "Lovelace")
            #expect(c["email"]?.string == "ada@example.com")
            #expect(c["city"]?.string == "Raleigh" && c["state"]?.string == "NC" && c["zip"]?.string == "27601")
            #expect(c["timezone"]?.string == "America/New_York")
            #expect(c["tags"] == .array([.string("donor"), .string("vip")]))
            #expect(c["customFields"] == .object(["team": .string("blue"), "score": .string("42"), "member": .string("true")]))
            #expect(c["isOptedIn"]?.bool == true && c.raw("optedOutAt") == .null && c["isTextable"]?.bool == true)

            let m = try await t.post("/api/contacts", #"{"phone":"+1 919 555 0143","firstName":"Augusta","tags":["board"],"customFields":{"team":"red","score":null}}"#)
            #expect(m.status == .ok)
            #expect(m.json["outcome"]?.string == "merged")
            #expect(m.json["id"] == c["id"])
            #expect(m.json["firstName"]?.string == "Augusta")
            #expect(m.json["lastName"]?.string == "Lovelace")
            #expect(m.json["tags"] == .array([.string("board"), .string("donor"), .string("vip")]))
            #expect(m.json["customFields"] == .object(["team": .string("red"), "member": .string("true")]))
            let fetched = try await t.get("/api/contacts/\(c["id"]!.string!)", key: t.a.read)
            #expect(fetched.json.keys == Shape.contact)
            var expected = m.json
            if case .object(var o) = expected { o["outcome"] = nil; expected = .object(o) }
            #expect(fetched.json == expected)
            // The same phone in organization B is a different contact.
            let inB = try await t.post("/api/contacts", #"{"phone":"+19195550143"}"#, key: t.b.write)
            #expect(inB.status == .created)
            #expect(inB.json["id"] != c["id"])
        }
    }

    @Test("national phone formats are normalized with the organization's defaultCountry", arguments: TestEngine.available)
    func normalization(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            for (raw, e164) in [("919-555-0100", "+19195550100"), ("1 (919) 555 0101", "+19195550101"), ("+1.919.555.0102", "+19195550102")] {
                #expect(try await t.contact(#"{"phone":"\#(raw)"}"#)["phone"]?.string == e164, "\(raw)")
            }
            // Organization B's defaultCountry is GB.
            #expect(try await t.contact(#"{"phone":"07400 123123"}"#, key: t.b.write)["phone"]?.string == "+447400123123")
            // After changing A's country, national numbers are read as that country's.
            _ = try await t.patch("/api/organization", #"{"defaultCountry":"GB"}"#)
            #expect(try await t.contact(#"{"phone":"07400 123124"}"#)["phone"]?.string == "+447400123124")
        }
    }

    @Test("contact validation reports every failing field (422)", arguments: TestEngine.available)
    func validation(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let r = try await t.post("/api/contacts", #"{"phone":"12","email":"not-an-email","timezone":"Mars/Olympus","tags":[""],"customFields":{"bad name!":"x","Phone":"x","first_name":"y","createdAt":null}}"#)
            #expect(r.status == .unprocessableContent)
            #expect(r.error == "validation_error")
            #expect(r.json.keys == Shape.error)
            // Contact field names are not custom field names (removing one with null is allowed).
            #expect(Set(r.fields) == ["phone", "email", "timezone", "tags[0]", "customFields.bad name!", "customFields.Phone", "customFields.first_name"], "\(r.text)")
            // A whole number JSON cannot carry exactly is refused, not stored changed; 2^53 - 1
            // and fractions keep their digits.
            let big = try await t.post("/api/contacts", #"{"phone":"+19195550166","customFields":{"id":12345678901234567890,"max":9007199254740991,"f":0.1}}"#)
            #expect(big.status == .unprocessableContent && big.fields == ["customFields.id"], "\(big.text)")
            let exact = try await t.post("/api/contacts", #"{"phone":"+19195550166","customFields":{"max":9007199254740991,"f":0.1,"neg":-42}}"#)
            #expect(exact.json["customFields"] == .object(["max": .string("9007199254740991"), "f": .string("0.1"), "neg": .string("-42")]), "\(exact.text)")
            #expect(try await t.delete("/api/contacts/\(exact.json["id"]?.string ?? "")").status == .noContent)
            let missing = try await t.post("/api/contacts", #"{"firstName":"Nobody"}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.fields == ["phone"])
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 0)
            // PATCH: same rules; phone cannot be removed.
            let c = try await t.contact(#"{"phone":"+19195550100"}"#)
            let id = c["id"]!.string!
            let p = try await t.patch("/api/contacts/\(id)", #"{"phone":null,"email":"x@"}"#)
            #expect(p.status == .unprocessableContent)
            #expect(Set(p.fields) == ["phone", "email"])
        }
    }

    @Test("PATCH replaces given fields and tags, clears with null, keeps the rest", arguments: TestEngine.available)
    func patch(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let c = try await t.contact(#"{"phone":"+19195550100","firstName":"Ada","email":"a@example.com","tags":["a","b"],"customFields":{"x":"1","y":"2"}}"#)
            let id = c["id"]!.string!
            let r = try await t.patch("/api/contacts/\(id)", #"{"email":null,"tags":["c"],"customFields":{"y":null,"z":"3"},"phone":"919 555 0199"}"#, key: t.a.write)
            #expect(r.status == .ok)
            #expect(r.json.keys == Shape.contact)
            #expect(r.json.raw("email") == .null)
            #expect(r.json["firstName"]?.string == "Ada")
            #expect(r.json["tags"] == .array([.string("c")]))
            #expect(r.json["customFields"] == .object(["x": .string("1"), "z": .string("3")]))
            #expect(r.json["phone"]?.string == "+19195550199")
            // Taking another contact's phone is a conflict.
            _ = try await t.contact(#"{"phone":"+19195550111"}"#)
            let clash = try await t.patch("/api/contacts/\(id)", #"{"phone":"+19195550111"}"#)
            #expect(clash.status == .conflict)
            #expect(clash.fields == ["phone"])
        }
    }

    @Test("opt-out and opt-in", arguments: TestEngine.available)
    func optOut(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let id = try await t.contact(#"{"phone":"+19195550100"}"#)["id"]!.string!
            let out = try await t.call(.post, "/api/contacts/\(id)/opt-out", key: t.a.write)
            #expect(out.status == .ok)
            #expect(out.json.keys == Shape.contact)
            #expect(out.json["isOptedIn"]?.bool == false)
            #expect(isInstant(out.json["optedOutAt"]))
            let again = try await t.call(.post, "/api/contacts/\(id)/opt-out")
            #expect(again.json["optedOutAt"] == out.json["optedOutAt"])
            #expect(try await t.get("/api/contacts?optedOut=true").json["data"]?.ids == [id])
            let back = try await t.call(.post, "/api/contacts/\(id)/opt-in")
            #expect(back.json["isOptedIn"]?.bool == true)
            #expect(back.json.raw("optedOutAt") == .null)
            #expect(try await t.get("/api/contacts?optedOut=true").json["data"]?.array.isEmpty == true)
            // optedOut in a create.
            let c = try await t.contact(#"{"phone":"+19195550101","optedOut":true}"#)
            #expect(c["isOptedIn"]?.bool == false)
        }
    }

    @Test("DELETE removes the contact (204), from lists and tags too", arguments: TestEngine.available)
    func delete(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let id = try await t.contact(#"{"phone":"+19195550100","tags":["gone"]}"#)["id"]!.string!
            let list = try await t.list("L")
            _ = try await t.post("/api/lists/\(list)/contacts", #"{"contactIds":["\#(id)"]}"#)
            let r = try await t.delete("/api/contacts/\(id)", key: t.a.write)
            #expect(r.status == .noContent)
            #expect(try await t.get("/api/contacts/\(id)").status == .notFound)
            #expect(try await t.delete("/api/contacts/\(id)").status == .notFound)
            #expect(try await t.get("/api/lists/\(list)").json["contactCount"]?.int == 0)
            #expect(try await t.get("/api/tags").json.array.isEmpty)
            // The phone can be used again.
            #expect(try await t.post("/api/contacts", #"{"phone":"+19195550100"}"#).status == .created)
        }
    }

    /// Seven contacts with known attributes for the filter tests.
    static func seedFilterContacts(_ t: TestApp) async throws -> [String: String] {
        let specs = [
            ("ada", #"{"phone":"+19195550101","firstName":"Ada","lastName":"Lovelace","email":"ada@math.org","state":"NC","zip":"27601","tags":["vip","donor"]}"#),
            ("bob", #"{"phone":"+19195550102","firstName":"Bob","lastName":"Smith","state":"sc","zip":"29201","tags":["vip"]}"#),
            ("cy", #"{"phone":"+19195550103","firstName":"Cy","email":"cy@example.com","state":"VA","tags":["donor"]}"#),
            ("dee", #"{"phone":"+19195550104","firstName":"Dee","optedOut":true,"state":"NC","zip":"27601"}"#),
            ("eve", #"{"phone":"+19195550105","firstName":"Eve","lastName":"Lovelace","email":"eve@example.com"}"#),
            ("fay", #"{"phone":"+12025550106","firstName":"Fay_%","tags":["staff"]}"#),
        ]
        var ids: [String: String] = [:]
        for (name, body) in specs { ids[name] = try await t.contact(body)["id"]?.string }
        // One contact in organization B that must never show up.
        _ = try await t.contact(#"{"phone":"+447400123555","firstName":"Ada","tags":["vip"],"state":"NC"}"#, key: t.b.write)
        return ids
    }

    static let filterCases: [(query: String, expected: Set<String>)] = [
        ("", ["ada", "bob", "cy", "dee", "eve", "fay"]),
        ("search=ada", ["ada"]),
        ("search=LOVELACE", ["ada", "eve"]),
        ("search=example.com", ["cy", "eve"]),
        ("search=5550103", ["cy"]),
        ("search=(202)%20555", ["fay"]),
        ("search=Ada%20Love", ["ada"]),
        ("search=_%25", ["fay"]),
        ("tags=vip", ["ada", "bob"]),
        ("tags=vip,donor", ["ada", "bob", "cy"]),
        ("tags=vip,donor&tagsLogic=OR", ["ada", "bob", "cy"]),
        ("tags=VIP,%20donor&tagsLogic=AND", ["ada"]),
        ("isTextable=true", ["ada", "bob", "cy", "dee", "eve", "fay"]),
        ("isTextable=false", []),
        ("optedOut=true", ["dee"]),
        ("optedOut=false", ["ada", "bob", "cy", "eve", "fay"]),
        ("hasEmail=true", ["ada", "cy", "eve"]),
        ("hasEmail=false", ["bob", "dee", "fay"]),
        ("hasPhone=true", ["ada", "bob", "cy", "dee", "eve", "fay"]),
        ("hasPhone=false", []),
        ("state=NC", ["ada", "dee"]),
        ("state=nc,SC", ["ada", "bob", "dee"]),
        ("zip=27601", ["ada", "dee"]),
        ("state=NC&optedOut=false&tags=vip", ["ada"]),
        ("sort=created_at", ["ada", "bob", "cy", "dee", "eve", "fay"]),
    ]

    @Test("every list filter of §3", arguments: TestEngine.available)
    func filters(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let ids = try await Self.seedFilterContacts(t)
            let names = Dictionary(uniqueKeysWithValues: ids.map { ($1, $0) })
            for (query, expected) in Self.filterCases {
                let r = try await t.get("/api/contacts?\(query)&includeTotal=true", key: t.a.read)
                #expect(r.status == .ok, "\(query): \(r.text)")
                #expect(r.json.keys == ["data", "nextCursor", "total"])
                let got = Set(r.json["data"]?.ids.compactMap { names[$0] } ?? ["<B or unknown>"])
                #expect(got == expected, "\(query)")
                #expect(r.json["data"]?.array.count == expected.count, "\(query) (no contact of B)")
                #expect(r.json["total"]?.int == expected.count, "\(query)")
            }
            // Without includeTotal there is no total.
            #expect(try await t.get("/api/contacts").json.keys == ["data", "nextCursor"])
            // Bad values are 400 naming the parameter; several at once.
            let bad = try await t.get("/api/contacts?isTextable=maybe&optedOut=2&hasEmail=x&hasPhone=y&tagsLogic=XOR&sort=name&includeTotal=nope")
            #expect(bad.status == .badRequest)
            #expect(Set(bad.fields) == ["isTextable", "optedOut", "hasEmail", "hasPhone", "tagsLogic", "sort", "includeTotal"])
        }
    }

    @Test("sorting and pagination walk every contact once, newest first", arguments: TestEngine.available)
    func pagination(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            var created: [String] = []
            for i in 0..<7 { created.append(try await t.contact(#"{"phone":"+1919555\#(String(format: "%04d", 200 + i))"}"#)["id"]!.string!) }
            // Touch the first one: it becomes the most recently updated.
            _ = try await t.patch("/api/contacts/\(created[0])", #"{"firstName":"Touched"}"#)
            for limit in [1, 2, 3, 7, 50] {
                let byCreated = try await t.all("/api/contacts?sort=created_at", limit: limit)
                #expect(byCreated.ids == Array(created.reversed()), "limit \(limit)")
                let byUpdated = try await t.all("/api/contacts", limit: limit)
                #expect(byUpdated.ids.first == created[0], "limit \(limit)")
                #expect(Set(byUpdated.ids) == Set(created) && byUpdated.count == 7, "limit \(limit)")
            }
            let page = try await t.get("/api/contacts?limit=3&includeTotal=true").json
            #expect(page["total"]?.int == 7)
            #expect(page["data"]?.array.count == 3)
            #expect(page["nextCursor"]?.string != nil)
            let last = try await t.get("/api/contacts?limit=7").json
            #expect(last.raw("nextCursor") == .null || last["data"]?.array.count == 7)
        }
    }

    @Test("GET /api/tags counts contacts per tag, per organization", arguments: TestEngine.available)
    func tags(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            _ = try await Self.seedFilterContacts(t)
            let r = try await t.get("/api/tags", key: t.a.read)
            #expect(r.status == .ok)
            #expect(r.json == .array([
                .object(["name": .string("donor"), "contactCount": .number(2)]),
                .object(["name": .string("staff"), "contactCount": .number(1)]),
                .object(["name": .string("vip"), "contactCount": .number(2)]),
            ]))
            #expect(try await t.get("/api/tags", key: t.b.read).json == .array([.object(["name": .string("vip"), "contactCount": .number(1)])]))
            // Pages of one and of two give the same tags in the same order, each once, and a
            // short last page carries no X-Next-Cursor.
            for limit in [1, 2] {
                #expect(try await t.all("/api/tags", limit: limit, key: t.a.read).map { $0["name"]?.string } == ["donor", "staff", "vip"])
            }
            let first = try await t.get("/api/tags?limit=2", key: t.a.read)
            #expect(first.json.array.count == 2)
            let next = try #require(first.header("X-Next-Cursor"))
            let last = try await t.get("/api/tags?limit=2&cursor=\(next)", key: t.a.read)
            #expect(last.json == .array([.object(["name": .string("vip"), "contactCount": .number(2)])]))
            #expect(last.header("X-Next-Cursor") == nil)
            // Non-ASCII tags page like the rest: the walk gives the unpaged list.
            let tagged = try await t.post("/api/contacts", #"{"phone":"+19195550177","tags":["zoë","ünïcode-🎉","a"]}"#)
            #expect(tagged.status == .created)
            let unpaged = try await t.get("/api/tags?limit=1000", key: t.a.read).json.array.map { $0["name"]?.string }
            #expect(unpaged.count == 6)
            #expect(try await t.all("/api/tags", limit: 1, key: t.a.read).map { $0["name"]?.string } == unpaged)
        }
    }

    @Test("segmentId filters the list and overrides the other filters", arguments: TestEngine.available)
    func segmentFilter(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let ids = try await Self.seedFilterContacts(t)
            let seg = try await t.post("/api/segments", #"{"name":"donors","filter":{"tags":["donor"]}}"#).json["id"]!.string!
            let r = try await t.get("/api/contacts?segmentId=\(seg)&state=VA&includeTotal=true")
            #expect(Set(r.json["data"]?.ids ?? []) == [ids["ada"]!, ids["cy"]!])
            #expect(r.json["total"]?.int == 2)
            let otherSeg = try await t.post("/api/segments", #"{"name":"b","filter":{}}"#, key: t.b.write).json["id"]!.string!
            for bad in [otherSeg, UUID().uuidString, "nope"] {
                let x = try await t.get("/api/contacts?segmentId=\(bad)")
                #expect(x.status == .badRequest, "\(bad)")
                #expect(x.fields == ["segmentId"])
            }
        }
    }
}

extension ContactTests {
    /// Bodies with wrong JSON types, and every field the 400 lists (wrong types and broken rules).
    static let wrongTypeBodies: [(String, Set<String>)] = [
        (#"{"phone":"+19195550100","customFields":{"a":{"x":1}}}"#, ["customFields.a"]),
        (#"{"phone":"+19195550100","customFields":{"a":[1],"b":"ok","c":{}}}"#, ["customFields.a", "customFields.c"]),
        (#"{"phone":"+19195550100","tags":"vip"}"#, ["tags"]),
        (#"{"phone":"12","email":"x","customFields":{"a":{"x":1},"bad name":"x"}}"#, ["customFields.a", "phone", "email", "customFields.bad name"]),
    ]

    @Test("wrong JSON types, customFields values included, are 400 invalid_request listing every failing field",
          arguments: TestEngine.available, wrongTypeBodies)
    func wrongTypes(engine: TestEngine, request: (body: String, fields: Set<String>)) async throws {
        let (body, fields) = request
        try await TestApp.run(engine) { t in
            let created = try await t.post("/api/contacts", body)
            #expect(created.status == .badRequest, "\(created.text)")
            #expect(created.error == "invalid_request")
            #expect(Set(created.fields) == fields, "\(created.text)")
            let id = try #require(try await t.contact(#"{"phone":"+19195550101"}"#)["id"]?.string)
            let patched = try await t.patch("/api/contacts/\(id)", body)
            #expect(patched.status == .badRequest, "\(patched.text)")
            #expect(Set(patched.fields) == fields, "\(patched.text)")
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 1)
        }
    }

    @Test("text values are trimmed as an import trims its cells; a blank custom field value removes it",
          arguments: TestEngine.available)
    func trimmed(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let c = try await t.contact(#"{"phone":"+19195550100","firstName":"\n=Ada\t","timezone":" America/New_York ","customFields":{"a":" =x","b":"\n=y","c":"  keep  inner  ","d":"x"}}"#)
            #expect(c["firstName"]?.string == "=Ada")
            #expect(c["timezone"]?.string == "America/New_York")
            #expect(c["customFields"] == .object(["a": .string("=x"), "b": .string("=y"), "c": .string("keep  inner"), "d": .string("x")]), "\(c)")
            let id = try #require(c["id"]?.string)
            let p = try await t.patch("/api/contacts/\(id)", #"{"customFields":{"a":" \u00a0","b":"\r\n"}}"#)
            #expect(p.json["customFields"] == .object(["c": .string("keep  inner"), "d": .string("x")]), "\(p.text)")
            // The length limit applies to the trimmed value.
            let long = " " + String(repeating: "x", count: 1000) + "\n"
            #expect(try await t.post("/api/contacts", #"{"phone":"+19195550102","customFields":{"a":"\#(long.replacingOccurrences(of: "\n", with: "\\n"))"}}"#).status == .created)
        }
    }
}
