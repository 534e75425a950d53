import Foundation
import HTTPTypes
import HeraldCore
import HeraldTestSupport
import Testing

/// API.md §3: lists and segments, with the whole filter language.
@Suite("Lists and segments", .timeLimit(.minutes(10)))
struct ListSegmentTests {
    @Test("lists: create, get, patch, list, delete", arguments: TestEngine.available)
    func lists(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let r = try await t.post("/api/lists", #"{"name":" Volunteers ","description":"Spring"}"#, key: t.a.write)
            #expect(r.status == .created)
            let l = r.json
            #expect(l.keys == Shape.list)
            #expect(l["name"]?.string == "Volunteers" && l["description"]?.string == "Spring" && l["contactCount"]?.int == 0)
            #expect(isUUID(l["id"]) && isInstant(l["createdAt"]))
            let id = l["id"]!.string!
            #expect(try await t.get("/api/lists/\(id)", key: t.a.read).json == l)
            let p = try await t.patch("/api/lists/\(id)", #"{"description":null}"#)
            #expect(p.json["name"]?.string == "Volunteers")
            #expect(p.json.raw("description") == .null)
            #expect(try await t.patch("/api/lists/\(id)", #"{"name":"Crew"}"#).json["name"]?.string == "Crew")
            let bad = try await t.post("/api/lists", #"{"name":"  ","description":"\#(String(repeating: "d", count: 2001))"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields) == ["name", "description"])
            #expect(try await t.post("/api/lists", #"{}"#).fields == ["name"])
            #expect(try await t.patch("/api/lists/\(id)", #"{"name":""}"#).fields == ["name"])
            for i in 0..<4 { _ = try await t.list("L\(i)") }
            let all = try await t.all("/api/lists", limit: 2)
            #expect(all.count == 5 && Set(all.ids).count == 5)
            #expect(all.map { $0["name"]?.string ?? "" } == ["L3", "L2", "L1", "L0", "Crew"])
            #expect(try await t.get("/api/lists", key: t.b.read).json.array.isEmpty)
            #expect(try await t.delete("/api/lists/\(id)", key: t.a.write).status == .noContent)
            #expect(try await t.get("/api/lists/\(id)").status == .notFound)
        }
    }

    @Test("list members: add by ids and phones, remove, listing", arguments: TestEngine.available)
    func members(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let list = try await t.list("L")
            let c1 = try await t.contact(#"{"phone":"+19195550101"}"#)["id"]!.string!
            let c2 = try await t.contact(#"{"phone":"+19195550102"}"#)["id"]!.string!
            let c3 = try await t.contact(#"{"phone":"+19195550103"}"#)["id"]!.string!
            let foreign = try await t.contact(#"{"phone":"+447400123123"}"#, key: t.b.write)["id"]!.string!
            let unknown = UUID().uuidString.lowercased()
            let add = try await t.post("/api/lists/\(list)/contacts", #"{"contactIds":["\#(c1)","\#(c2)","\#(foreign)","\#(unknown)","junk"]}"#, key: t.a.write)
            #expect(add.status == .ok)
            #expect(add.json == .object(["added": .number(2), "alreadyPresent": .number(0), "invalid": .array([.string(foreign), .string(unknown), .string("junk")])]))
            let byPhone = try await t.post("/api/lists/\(list)/contacts", #"{"phones":["919-555-0102","(919) 555-0103","+19195559999","abc"]}"#)
            #expect(byPhone.json["added"]?.int == 1)
            #expect(byPhone.json["alreadyPresent"]?.int == 1)
            #expect(Set(byPhone.json["invalid"]?.array.compactMap(\.string) ?? []) == ["+19195559999", "abc"])
            #expect(try await t.get("/api/lists/\(list)").json["contactCount"]?.int == 3)
            let members = try await t.get("/api/lists/\(list)/contacts?includeTotal=true", key: t.a.read)
            #expect(members.json.keys == ["data", "nextCursor", "total"])
            #expect(Set(members.json["data"]?.ids ?? []) == [c1, c2, c3])
            #expect(members.json["total"]?.int == 3)
            #expect(members.json["data"]?.array.allSatisfy { $0.keys == Shape.contact } == true)
            let walked = try await t.all("/api/lists/\(list)/contacts", limit: 1)
            #expect(walked.count == 3 && Set(walked.ids).count == 3)
            let removed = try await t.delete("/api/lists/\(list)/contacts", #"{"contactIds":["\#(c1)","\#(foreign)"]}"#)
            #expect(removed.status == .ok)
            #expect(removed.json == .object(["removed": .number(1)]))
            #expect(Set(try await t.get("/api/lists/\(list)/contacts").json["data"]?.ids ?? []) == [c2, c3])
            // The largest request, 10,000 entries: each counts once, in order (c1 is added by its
            // first entry and already present for the rest; c2 was a member; the 4,000 unknown phones are invalid).
            let many = (0..<10_000).map { i in i % 2 == 0 ? "\"+19195550101\"" : (i % 5 == 1 ? "\"+19195550102\"" : "\"+1919555\(String(format: "%04d", 2000 + i % 3000))\"") }
            let big = try await t.post("/api/lists/\(list)/contacts", #"{"phones":[\#(many.joined(separator: ","))]}"#)
            #expect(big.status == .ok, "\(big.text.prefix(300))")
            #expect(big.json["added"]?.int == 1 && big.json["alreadyPresent"]?.int == 5999, "\(big.text.prefix(300))")
            #expect(big.json["invalid"]?.array.count == 4000)
            #expect(try await t.get("/api/lists/\(list)").json["contactCount"]?.int == 3)
            // Validation: exactly one of contactIds or phones, 1 to 10,000 entries.
            #expect(Set(try await t.post("/api/lists/\(list)/contacts", #"{}"#).fields) == ["contactIds", "phones"])
            #expect(Set(try await t.post("/api/lists/\(list)/contacts", #"{"contactIds":[],"phones":[]}"#).fields) == ["contactIds", "phones"])
            #expect(try await t.post("/api/lists/\(list)/contacts", #"{"phones":[]}"#).fields == ["phones"])
            #expect(try await t.delete("/api/lists/\(list)/contacts", #"{"contactIds":[]}"#).fields == ["contactIds"])
            // B cannot add its contacts to A's list, nor list its members.
            #expect(try await t.post("/api/lists/\(list)/contacts", #"{"contactIds":["\#(foreign)"]}"#, key: t.b.write).status == .notFound)
            #expect(try await t.get("/api/lists/\(list)/contacts", key: t.b.read).status == .notFound)
        }
    }

    /// Contacts for the filter language; returns name → id.
    static func seed(_ t: TestApp) async throws -> (ids: [String: String], list: String) {
        let specs = [
            ("ada", #"{"phone":"+19195550101","firstName":"Ada","lastName":"Lovelace","email":"ada@math.org","city":"Raleigh","state":"NC","zip":"27601","tags":["vip","donor"],"customFields":{"team":"blue","score":"42","joined":"2026-01-10T12:00:00Z"}}"#),
            ("bob", #"{"phone":"+19195550102","firstName":"Bob","city":"Columbia","state":"SC","zip":"29201","tags":["vip"],"customFields":{"team":"red","score":"7"}}"#),
            ("cy", #"{"phone":"+19195550103","firstName":"Cy","city":"raleigh","state":"nc","tags":["donor","staff"],"customFields":{"team":"Blue Sky","score":"100"}}"#),
            ("dee", #"{"phone":"+19195550104","firstName":"Dee","state":"VA","optedOut":true}"#),
        ]
        var ids: [String: String] = [:]
        for (name, body) in specs { ids[name] = try await t.contact(body)["id"]?.string }
        let list = try await t.list("Members")
        _ = try await t.post("/api/lists/\(list)/contacts", #"{"contactIds":["\#(ids["bob"]!)","\#(ids["dee"]!)"]}"#)
        _ = try await t.contact(#"{"phone":"+447400123555","firstName":"Ada","tags":["vip"],"state":"NC","customFields":{"team":"blue"}}"#, key: t.b.write)
        return (ids, list)
    }

    static let filterCases: [(filter: String, expected: Set<String>)] = [
        ("{}", ["ada", "bob", "cy", "dee"]),
        (#"{"tags":["vip","staff"]}"#, ["ada", "bob", "cy"]),
        (#"{"tags":["VIP","donor"],"tagsLogic":"AND"}"#, ["ada"]),
        (#"{"tags":["vip","donor"],"tagsLogic":"or"}"#, ["ada", "bob", "cy"]),
        (#"{"excludeTags":["staff"]}"#, ["ada", "bob", "dee"]),
        (#"{"tags":["donor"],"excludeTags":["vip"]}"#, ["cy"]),
        (#"{"listIds":["{list}"]}"#, ["bob", "dee"]),
        (#"{"state":["nc","SC"]}"#, ["ada", "bob", "cy"]),
        (#"{"zip":["27601"]}"#, ["ada"]),
        (#"{"city":["RALEIGH"]}"#, ["ada", "cy"]),
        (#"{"state":["NC"],"tags":["vip"]}"#, ["ada"]),
        (#"{"conditions":[{"field":"firstName","op":"eq","value":"Ada"}]}"#, ["ada"]),
        (#"{"conditions":[{"field":"firstName","op":"neq","value":"Ada"}]}"#, ["bob", "cy", "dee"]),
        (#"{"conditions":[{"field":"firstName","op":"in","value":["Bob","Cy"]}]}"#, ["bob", "cy"]),
        (#"{"conditions":[{"field":"firstName","op":"notIn","value":["Bob","Cy"]}]}"#, ["ada", "dee"]),
        (#"{"conditions":[{"field":"email","op":"contains","value":"math"}]}"#, ["ada"]),
        (#"{"conditions":[{"field":"lastName","op":"startsWith","value":"Love"}]}"#, ["ada"]),
        (#"{"conditions":[{"field":"email","op":"exists"}]}"#, ["ada"]),
        (#"{"conditions":[{"field":"email","op":"notExists"}]}"#, ["bob", "cy", "dee"]),
        (#"{"conditions":[{"field":"zip","op":"gt","value":"28000"}]}"#, ["bob"]),
        (#"{"conditions":[{"field":"isOptedIn","op":"eq","value":false}]}"#, ["dee"]),
        (#"{"conditions":[{"field":"isTextable","op":"eq","value":true}]}"#, ["ada", "bob", "cy", "dee"]),
        (#"{"conditions":[{"field":"optedOutAt","op":"exists"}]}"#, ["dee"]),
        (#"{"conditions":[{"field":"createdAt","op":"gte","value":"2000-01-01T00:00:00+05:00"}]}"#, ["ada", "bob", "cy", "dee"]),
        (#"{"conditions":[{"field":"createdAt","op":"lt","value":"2000-01-01T00:00:00Z"}]}"#, []),
        (#"{"conditions":[{"field":"customFields.team","op":"eq","value":"BLUE"}]}"#, ["ada"]),
        (#"{"conditions":[{"field":"customFields.team","op":"startsWith","value":"blue"}]}"#, ["ada", "cy"]),
        (#"{"conditions":[{"field":"customFields.team","op":"contains","value":"sky"}]}"#, ["cy"]),
        (#"{"conditions":[{"field":"customFields.team","op":"in","value":["red","blue"]}]}"#, ["ada", "bob"]),
        (#"{"conditions":[{"field":"customFields.team","op":"notIn","value":["red"]}]}"#, ["ada", "cy", "dee"]),
        (#"{"conditions":[{"field":"customFields.team","op":"exists"}]}"#, ["ada", "bob", "cy"]),
        (#"{"conditions":[{"field":"customFields.team","op":"notExists"}]}"#, ["dee"]),
        (#"{"conditions":[{"field":"customFields.score","op":"gt","value":40}]}"#, ["ada", "cy"]),
        (#"{"conditions":[{"field":"customFields.score","op":"gte","value":42}]}"#, ["ada", "cy"]),
        (#"{"conditions":[{"field":"customFields.score","op":"lt","value":42}]}"#, ["bob"]),
        (#"{"conditions":[{"field":"customFields.score","op":"lte","value":7}]}"#, ["bob"]),
        (#"{"conditions":[{"field":"customFields.team","op":"eq","value":"red"},{"field":"firstName","op":"eq","value":"Cy"}],"conditionsLogic":"OR"}"#, ["bob", "cy"]),
        (#"{"conditions":[{"field":"customFields.team","op":"eq","value":"red"},{"field":"firstName","op":"eq","value":"Cy"}]}"#, []),
    ]

    @Test("segments: the whole filter language through preview, create, contacts and contactCount", arguments: TestEngine.available)
    func filterLanguage(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let (ids, list) = try await Self.seed(t)
            let names = Dictionary(uniqueKeysWithValues: ids.map { ($1, $0) })
            for (raw, expected) in Self.filterCases {
                let filter = raw.replacingOccurrences(of: "{list}", with: list)
                let preview = try await t.post("/api/segments/preview", #"{"filter":\#(filter)}"#, key: t.a.write)
                #expect(preview.status == .ok, "\(filter): \(preview.text)")
                #expect(preview.json.keys == ["contactCount", "sample"])
                #expect(preview.json["contactCount"]?.int == expected.count, "\(filter)")
                let sample = preview.json["sample"]?.array ?? []
                #expect(sample.count == min(5, expected.count), "\(filter)")
                let sampled = Set(sample.compactMap { names[$0["id"]?.string ?? ""] })
                #expect(sampled.isSubset(of: expected), "\(filter)")
                #expect(sample.allSatisfy { $0.keys == Shape.contact })
                let created = try await t.post("/api/segments", #"{"name":"s","filter":\#(filter)}"#)
                #expect(created.status == .created, "\(filter): \(created.text)")
                #expect(created.json["contactCount"]?.int == expected.count, "\(filter)")
                let contacts = try await t.all("/api/segments/\(created.json["id"]!.string!)/contacts", limit: 2)
                #expect(Set(contacts.ids.compactMap { names[$0] }) == expected, "\(filter)")
                #expect(contacts.count == expected.count, "\(filter)")
            }
        }
    }

    @Test("custom fields holding dates compare as instants, whatever the offset", arguments: TestEngine.available)
    func customDates(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            _ = try await Self.seed(t) // ada joined 2026-01-10T12:00:00Z
            // zed joined an hour after ada, written with another offset; xi with lowercase t/z and
            // milliseconds; yan's value is not a date (as text it sorts before every 2026 date).
            _ = try await t.contact(#"{"phone":"+19195550181","firstName":"Zed","customFields":{"joined":"2026-01-10T08:00:00-05:00"}}"#)
            _ = try await t.contact(#"{"phone":"+19195550182","firstName":"Yan","customFields":{"joined":"1999"}}"#)
            _ = try await t.contact(#"{"phone":"+19195550183","firstName":"Xi","customFields":{"joined":"2026-01-10t12:30:00.250z"}}"#)
            let cases = [("gt", "2026-01-10T13:00:00+02:00", 3), ("lt", "2026-01-10T13:00:00+02:00", 0),
                         ("lte", "2026-01-10T07:00:00-05:00", 1), ("gt", "2026-01-10T07:00:00-05:00", 2),
                         ("gte", "2026-01-10T13:00:00Z", 1), ("lt", "2026-01-10T12:30:00.250Z", 1),
                         ("lte", "2026-01-10T12:30:00.250Z", 2), ("gt", "2026-01-10T12:30:00.249Z", 2)]
            for (op, value, count) in cases {
                let r = try await t.post("/api/segments/preview", #"{"filter":{"conditions":[{"field":"customFields.joined","op":"\#(op)","value":"\#(value)"}]}}"#)
                #expect(r.status == .ok, "\(op) \(value): \(r.text)")
                #expect(r.json["contactCount"]?.int == count, "\(op) \(value)")
            }
            // Equality too, across offsets: zed's "08:00:00-05:00" is 13:00Z, ada's "12:00:00Z" is
            // 07:00-05:00. `neq` and `notIn` also keep the contacts without a date (6 of 7).
            let equal = [(#""eq","value":"2026-01-10T13:00:00Z""#, 1), (#""eq","value":"2026-01-10T07:00:00-05:00""#, 1),
                         (#""neq","value":"2026-01-10T13:00:00Z""#, 6),
                         (#""in","value":["2026-01-10T12:30:00.25Z","2026-01-10T18:00:00+05:00"]"#, 2),
                         (#""notIn","value":["2026-01-10T12:30:00.25Z"]"#, 6)]
            for (condition, count) in equal {
                let r = try await t.post("/api/segments/preview", #"{"filter":{"conditions":[{"field":"customFields.joined","op":\#(condition)}]}}"#)
                #expect(r.status == .ok, "\(condition): \(r.text)")
                #expect(r.json["contactCount"]?.int == count, "\(condition)")
            }
            // A value that is not a date keeps comparing as text.
            let text = try await t.post("/api/segments/preview", #"{"filter":{"conditions":[{"field":"customFields.joined","op":"lt","value":"2000"}]}}"#)
            #expect(text.json["contactCount"]?.int == 1)
        }
    }

    @Test("both engines fold case in every script and read custom-field numbers by one grammar", arguments: TestEngine.available)
    func foldingAndNumbers(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let people = [("+19195550191", "Élodie", "Müller", "Zürich", "1e400"), ("+19195550192", "ΣΟΦΙΑ", "İnce", "Αθήνα", "2024-01-02T03:04:05Z"),
                          ("+19195550193", "Jose\\u0301", "Ørn", "Oslo", "5."), ("+19195550194", "Ann", "Lee", "Raleigh", "0x10"),
                          ("+19195550195", "Bo", "Ek", "Umeå", "1_000"), ("+19195550196", "Cy", "Li", "Reno", "-2.5e3")]
            for (phone, first, last, city, amount) in people {
                _ = try await t.contact(#"{"phone":"\#(phone)","firstName":"\#(first)","lastName":"\#(last)","city":"\#(city)","tags":["fold"],"customFields":{"amount":"\#(amount)"}}"#)
            }
            func count(_ filter: String) async throws -> Int? {
                let r = try await t.post("/api/segments/preview", #"{"filter":\#(filter)}"#)
                #expect(r.status == .ok, "\(filter): \(r.text)")
                return r.json["contactCount"]?.int
            }
            let filters: [(String, Int)] = [
                (#"{"city":["ZÜRICH","αθήνα"]}"#, 2),
                (#"{"conditions":[{"field":"firstName","op":"eq","value":"élodie"}]}"#, 1),
                (#"{"conditions":[{"field":"firstName","op":"eq","value":"σοφια"}]}"#, 1),
                (#"{"conditions":[{"field":"lastName","op":"in","value":["MÜLLER","øRN"]}]}"#, 2),
                (#"{"conditions":[{"field":"lastName","op":"neq","value":"müller"}]}"#, 5),
                (#"{"conditions":[{"field":"city","op":"startsWith","value":"UME"}]}"#, 1),
                (#"{"conditions":[{"field":"lastName","op":"contains","value":"ÜLL"}]}"#, 1),
                // Numbers: 1e400 (beyond a double), 5. and -2.5e3 are numbers; a date, 0x10 and 1_000 are not.
                (#"{"conditions":[{"field":"customFields.amount","op":"gt","value":1}]}"#, 2),
                (#"{"conditions":[{"field":"customFields.amount","op":"lt","value":10}]}"#, 2),
                (#"{"conditions":[{"field":"customFields.amount","op":"gte","value":-1e308}]}"#, 3),
                (#"{"conditions":[{"field":"customFields.amount","op":"lte","value":0}]}"#, 1),
            ]
            for (filter, expected) in filters {
                #expect(try await count(filter) == expected, "\(filter)")
            }
            // A large whole number is stored and compared as the same text (2^53 - 1).
            _ = try await t.contact(#"{"phone":"+19195550198","customFields":{"ref":9007199254740991}}"#)
            #expect(try await count(#"{"conditions":[{"field":"customFields.ref","op":"eq","value":9007199254740991}]}"#) == 1)
            // Search with its total, through SQLite's trigram index (brought up to date first) and
            // the contacts it does not cover yet: a combining mark (`e` + U+0301) included.
            try await t.storage.contacts.syncSearchIndex()
            _ = try await t.contact(#"{"phone":"+19195550197","firstName":"Åsa","lastName":"Öberg","tags":["fold"]}"#)
            let ascii = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789")
            for (term, expected) in [("ÉLODIE", 1), ("müller", 1), ("σοφια", 1), ("JOSE\u{301}", 1), ("élodie müller", 1), ("åSA", 1), ("ÖBERG", 1), ("ince", 1), ("İNCE", 1)] {
                let q = term.addingPercentEncoding(withAllowedCharacters: ascii) ?? term
                let r = try await t.get("/api/contacts?tags=fold&includeTotal=true&search=\(q)")
                #expect(r.status == .ok, "\(term): \(r.text)")
                #expect(r.json["total"]?.int == expected, "\(term)")
                #expect(r.json["data"]?.array.count == expected, "\(term)")
            }
        }
    }

    @Test("preview samples at most 5 contacts", arguments: TestEngine.available)
    func previewSample(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            for i in 0..<7 { _ = try await t.contact(#"{"phone":"+1919555\#(1000 + i)"}"#) }
            let r = try await t.post("/api/segments/preview", #"{"filter":{}}"#)
            #expect(r.json["contactCount"]?.int == 7)
            #expect(r.json["sample"]?.array.count == 5)
        }
    }

    @Test("invalid filters are 422 naming filter.… paths, all at once", arguments: TestEngine.available)
    func invalidFilters(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let cases: [(String, Set<String>)] = [
                (#"{"conditions":[{"field":"shoeSize","op":"eq","value":"9"}]}"#, ["filter.conditions[0].field"]),
                (#"{"conditions":[{"field":"firstName","op":"like","value":"A"}]}"#, ["filter.conditions[0].op"]),
                (#"{"conditions":[{"field":"firstName","op":"eq","value":"A"},{"field":"nope","op":"regex","value":"x"}]}"#,
                 ["filter.conditions[1].field", "filter.conditions[1].op"]),
                (#"{"tagsLogic":"XOR","conditionsLogic":"NAND","listIds":["x"]}"#, ["filter.tagsLogic", "filter.conditionsLogic", "filter.listIds[0]"]),
                (#"{"conditions":[{"field":"createdAt","op":"gt","value":"2026-01-01T00:00:00"}]}"#, ["filter.conditions[0].value"]),
                (#"{"conditions":[{"field":"isOptedIn","op":"gt","value":true}]}"#, ["filter.conditions[0].op"]),
                (#"{"conditions":[{"field":"firstName","op":"in","value":"A"}]}"#, ["filter.conditions[0].value"]),
            ]
            for (filter, fields) in cases {
                for path in ["/api/segments/preview", "/api/segments"] {
                    let r = try await t.post(path, #"{"name":"x","filter":\#(filter)}"#)
                    #expect(r.status == .unprocessableContent, "\(path) \(filter): \(r.text)")
                    #expect(r.error == "validation_error")
                    #expect(Set(r.fields) == fields, "\(path) \(filter)")
                }
            }
            let both = try await t.post("/api/segments", #"{"name":"","filter":{"conditions":[{"field":"x","op":"eq","value":1}]}}"#)
            #expect(Set(both.fields) == ["name", "filter.conditions[0].field"])
            #expect(try await t.post("/api/segments", #"{"name":"n"}"#).fields == ["filter"])
            #expect(try await t.get("/api/segments").json.array.isEmpty)
        }
    }

    @Test("segments: get, patch, list, delete", arguments: TestEngine.available)
    func segments(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let (ids, _) = try await Self.seed(t)
            let r = try await t.post("/api/segments", #"{"name":"VIPs","filter":{"tags":["VIP"]}}"#, key: t.a.write)
            #expect(r.status == .created)
            let s = r.json
            #expect(s.keys == Shape.segment)
            #expect(s["filter"] == .object(["tags": .array([.string("vip")])]))
            #expect(s["contactCount"]?.int == 2)
            #expect(isUUID(s["id"]) && isInstant(s["createdAt"]) && isInstant(s["updatedAt"]))
            let id = s["id"]!.string!
            #expect(try await t.get("/api/segments/\(id)", key: t.a.read).json == s)
            let p = try await t.patch("/api/segments/\(id)", #"{"filter":{"tags":["staff"]}}"#)
            #expect(p.status == .ok)
            #expect(p.json["name"]?.string == "VIPs")
            #expect(p.json["contactCount"]?.int == 1)
            #expect(try await t.get("/api/segments/\(id)/contacts").json["data"]?.ids == [ids["cy"]!])
            let renamed = try await t.patch("/api/segments/\(id)", #"{"name":"Staff"}"#)
            #expect(renamed.json["filter"] == p.json["filter"])
            #expect(renamed.json["name"]?.string == "Staff")
            #expect(try await t.patch("/api/segments/\(id)", #"{"name":" ","filter":{"op":1,"conditions":[{}]}}"#).status == .unprocessableContent)
            for i in 0..<3 { _ = try await t.post("/api/segments", #"{"name":"s\#(i)","filter":{}}"#) }
            let all = try await t.all("/api/segments", limit: 2)
            #expect(all.map { $0["name"]?.string ?? "" } == ["s2", "s1", "s0", "Staff"])
            #expect(all.allSatisfy { $0.keys == Shape.segment })
            #expect(all.first?["contactCount"]?.int == 4)
            #expect(try await t.get("/api/segments", key: t.b.read).json.array.isEmpty)
            #expect(try await t.delete("/api/segments/\(id)", key: t.a.write).status == .noContent)
            #expect(try await t.get("/api/segments/\(id)").status == .notFound)
        }
    }
}

/// A filter with wrong JSON types: the fields (relative to the filter, `""` for the filter
/// itself) with a wrong type, and those breaking a rule.
struct FilterTypeCase: Sendable, CustomTestStringConvertible {
    let filter: String
    let typed: [String]
    var rules: [String] = []
    var testDescription: String { filter }

    static let all: [FilterTypeCase] = [
        FilterTypeCase(filter: #"{"tags":"vip"}"#, typed: [".tags"]),
        FilterTypeCase(filter: #"[]"#, typed: [""]),
        FilterTypeCase(filter: #""everyone""#, typed: [""]),
        FilterTypeCase(filter: #"{"state":"NC"}"#, typed: [".state"]),
        FilterTypeCase(filter: #"{"conditions":{}}"#, typed: [".conditions"]),
        FilterTypeCase(filter: #"{"tags":[1,"ok"],"excludeTags":{"a":1},"listIds":"x"}"#, typed: [".tags[0]", ".excludeTags", ".listIds"]),
        FilterTypeCase(filter: #"{"tagsLogic":true,"city":[null]}"#, typed: [".tagsLogic", ".city[0]"]),
        FilterTypeCase(filter: #"{"conditions":[{"field":1,"op":"eq","value":"a"},"x",{"field":"city","op":2}]}"#,
                       typed: [".conditions[0].field", ".conditions[1]", ".conditions[2].op"]),
        FilterTypeCase(filter: #"{"conditions":[{"field":"firstName","op":"eq","value":{"a":1}}]}"#, typed: [".conditions[0].value"]),
        // Both kinds: the wrong type makes it a 400, and the broken rules are listed too.
        FilterTypeCase(filter: #"{"zip":"27601","tagsLogic":"XOR","conditions":[{"field":"firstName","op":"like","value":"A"}]}"#,
                       typed: [".zip"], rules: [".tagsLogic", ".conditions[0].op"]),
    ]
}

extension ListSegmentTests {
    @Test("wrong JSON types inside a filter are 400 invalid_request naming every field, on every endpoint that takes one",
          arguments: TestEngine.available, FilterTypeCase.all)
    func filterTypes(engine: TestEngine, c: FilterTypeCase) async throws {
        try await TestApp.run(engine) { t in
            let segment = try #require(try await t.post("/api/segments", #"{"name":"s","filter":{}}"#).json["id"]?.string)
            let requests: [(method: HTTPRequest.Method, path: String, body: String, key: String)] = [
                (.post, "/api/segments", #"{"name":"x","filter":\#(c.filter)}"#, "filter"),
                (.post, "/api/segments/preview", #"{"filter":\#(c.filter)}"#, "filter"),
                (.patch, "/api/segments/\(segment)", #"{"filter":\#(c.filter)}"#, "filter"),
                (.post, "/api/campaigns/draft", #"{"name":"x","contactFilter":\#(c.filter)}"#, "contactFilter"),
                (.patch, "/api/campaigns/{draft}", #"{"contactFilter":\#(c.filter)}"#, "contactFilter"),
                (.post, "/api/campaigns/estimate", #"{"message":"hi","contactFilter":\#(c.filter)}"#, "contactFilter"),
                (.post, "/api/campaigns", #"{"name":"x","message":"hi","contactFilter":\#(c.filter)}"#, "contactFilter"),
            ]
            let draft = try #require(try await t.post("/api/campaigns/draft", #"{"name":"d"}"#).json["id"]?.string)
            for request in requests {
                let path = request.path.replacingOccurrences(of: "{draft}", with: draft)
                let r = try await t.call(request.method, path, body: request.body)
                #expect(r.status == .badRequest, "\(request.method) \(path) \(c.filter): \(r.text)")
                #expect(r.error == "invalid_request")
                #expect(Set(r.fields) == Set((c.typed + c.rules).map { request.key + $0 }), "\(request.method) \(path) \(c.filter): \(r.text)")
            }
            #expect(try await t.get("/api/segments").json.array.count == 1)
            #expect(try await t.get("/api/campaigns").json.array.count == 1)
        }
    }
}
