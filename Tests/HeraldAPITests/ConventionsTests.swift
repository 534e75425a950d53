import Foundation
import HTTPTypes
@testable import HeraldAPI
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Testing

/// API.md §1: auth, roles, tenancy, errors, request ids, body limits, pagination parameters,
/// idempotency and rate limiting, across every endpoint of §2–4.
@Suite("Conventions", .timeLimit(.minutes(10)))
struct ConventionsTests {
    /// A GET of every collection and of every single resource kind (ids filled in by `seed`).
    static let readPaths = [
        "/api/organization", "/api/organization/credits/ledger", "/api/api-keys", "/api/contacts", "/api/contacts/{contact}",
        "/api/contacts/export", "/api/contacts/imports/{import}", "/api/contacts/imports/{import}/errors", "/api/tags", "/api/lists", "/api/lists/{list}",
        "/api/lists/{list}/contacts", "/api/segments", "/api/segments/{segment}", "/api/segments/{segment}/contacts",
        "/api/senders", "/api/senders/{sender}",
    ]

    /// Every write endpoint with a valid body (write role unless noted as admin).
    static let writes: [(HTTPRequest.Method, String, String?, admin: Bool)] = [
        (.post, "/api/contacts", #"{"phone":"+19195550199"}"#, false),
        (.patch, "/api/contacts/{contact}", #"{"firstName":"X"}"#, false),
        (.delete, "/api/contacts/{contact}", nil, false),
        (.post, "/api/contacts/{contact}/opt-out", nil, false),
        (.post, "/api/contacts/{contact}/opt-in", nil, false),
        (.post, "/api/lists", #"{"name":"L"}"#, false),
        (.patch, "/api/lists/{list}", #"{"name":"L2"}"#, false),
        (.delete, "/api/lists/{list}", nil, false),
        (.post, "/api/lists/{list}/contacts", #"{"contactIds":["{contact}"]}"#, false),
        (.delete, "/api/lists/{list}/contacts", #"{"contactIds":["{contact}"]}"#, false),
        (.post, "/api/segments", #"{"name":"S","filter":{}}"#, false),
        (.patch, "/api/segments/{segment}", #"{"name":"S2"}"#, false),
        (.delete, "/api/segments/{segment}", nil, false),
        (.post, "/api/senders", #"{"channel":"text","address":"+19195550111","provider":"simulator"}"#, false),
        (.patch, "/api/senders/{sender}", #"{"label":"x"}"#, false),
        (.delete, "/api/senders/{sender}", nil, false),
        (.patch, "/api/organization", #"{"name":"N"}"#, true),
        (.post, "/api/organization/credits", #"{"amount":5,"reason":"r"}"#, true),
        (.post, "/api/api-keys", #"{"name":"k","role":"read"}"#, true),
        (.delete, "/api/api-keys/{apikey}", nil, true),
    ]

    /// Creates one resource of each kind in organization A; returns the placeholder values.
    static func seed(_ t: TestApp) async throws -> [String: String] {
        let contact = try #require(try await t.contact(#"{"phone":"+19195550100","firstName":"Ada"}"#)["id"]?.string)
        let list = try await t.list("Seed")
        let segment = try #require(try await t.post("/api/segments", #"{"name":"Seg","filter":{}}"#).json["id"]?.string)
        let sender = try #require(try await t.post("/api/senders", #"{"address":"+19195550112","provider":"simulator"}"#).json["id"]?.string)
        let key = try #require(try await t.post("/api/api-keys", #"{"name":"victim","role":"read"}"#).json["id"]?.string)
        let job = try #require(try await t.call(.post, "/api/contacts/import", body: "phone\n+19195550101\n", contentType: "text/csv").json["id"]?.string)
        return ["contact": contact, "list": list, "segment": segment, "sender": sender, "apikey": key, "import": job]
    }

    static func fill(_ s: String, _ ids: [String: String]) -> String {
        ids.reduce(s) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
    }

    @Test("401 for a missing, malformed, unknown or revoked key on every endpoint", arguments: TestEngine.available)
    func unauthorized(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let ids = try await Self.seed(t)
            let revoked = try await t.post("/api/api-keys", #"{"name":"gone","role":"admin"}"#)
            let revokedSecret = try #require(revoked.json["key"]?.string)
            #expect(try await t.delete("/api/api-keys/\(try #require(revoked.json["id"]?.string))").status == .noContent)
            let paths = Self.readPaths.map { (HTTPRequest.Method.get, $0, String?.none) } + Self.writes.map { ($0.0, $0.1, $0.2) }
            for (method, path, body) in paths {
                let uri = Self.fill(path, ids)
                let variants: [(String, Reply)] = [
                    ("none", try await t.call(method, uri, anonymous: true, body: body.map { Self.fill($0, ids) })),
                    ("basic", try await t.call(method, uri, anonymous: true, body: body, headers: [.authorization: "Basic \(TestApp.bootstrapKey)"])),
                    ("unknown", try await t.call(method, uri, key: "hk_doesnotexist000000000000000000000000", body: body)),
                    ("revoked", try await t.call(method, uri, key: revokedSecret, body: body)),
                ]
                for (name, r) in variants {
                    #expect(r.status == .unauthorized, "\(name) \(method) \(uri)")
                    #expect(r.error == "unauthorized", "\(name) \(method) \(uri)")
                    #expect(r.json.keys == Shape.error)
                }
            }
        }
    }

    @Test("403 when the role is too low: read keys only GET, admin endpoints need admin", arguments: TestEngine.available)
    func forbiddenRoles(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let ids = try await Self.seed(t)
            for (method, path, body, admin) in Self.writes {
                let uri = Self.fill(path, ids)
                let body = body.map { Self.fill($0, ids) }
                let read = try await t.call(method, uri, key: t.a.read, body: body)
                #expect(read.status == .forbidden, "read \(method) \(uri)")
                #expect(read.error == "forbidden")
                if admin {
                    let write = try await t.call(method, uri, key: t.a.write, body: body)
                    #expect(write.status == .forbidden, "write \(method) \(uri)")
                }
            }
            // The admin-only reads.
            #expect(try await t.get("/api/api-keys", key: t.a.write).status == .forbidden)
            // Nothing was changed by the refused calls.
            #expect(try await t.get("/api/contacts/\(ids["contact"]!)").json["firstName"]?.string == "Ada")
            #expect(try await t.get("/api/lists/\(ids["list"]!)").status == .ok)
            // Reads work with a read key.
            for path in Self.readPaths where !path.hasPrefix("/api/api-keys") {
                #expect(try await t.get(Self.fill(path, ids), key: t.a.read).status == .ok, "\(path)")
            }
        }
    }

    @Test("x-organization-id must be the key's organization (403), any case of the right one works", arguments: TestEngine.available)
    func organizationHeader(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let wrong = try await t.call(.get, "/api/organization", headers: [HTTPField.Name("x-organization-id")!: t.orgB.id])
            #expect(wrong.status == .forbidden)
            #expect(wrong.error == "forbidden")
            let junk = try await t.call(.get, "/api/contacts", headers: [HTTPField.Name("x-organization-id")!: "nope"])
            #expect(junk.status == .forbidden)
            let right = try await t.call(.get, "/api/organization", headers: [HTTPField.Name("x-organization-id")!: t.orgA.id.uppercased()])
            #expect(right.status == .ok)
            #expect(right.json["id"]?.string == t.orgA.id)
        }
    }

    @Test("another organization's ids, unknown ids and malformed ids are all 404 not_found", arguments: TestEngine.available)
    func notFound(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let ids = try await Self.seed(t)
            let unknown = ids.mapValues { _ in UUID().uuidString.lowercased() }
            let malformed = ids.mapValues { _ in "not-a-uuid" }
            let paths = Self.readPaths.filter { $0.contains("{") }.map { (HTTPRequest.Method.get, $0, String?.none, false) } + Self.writes.filter { $0.1.contains("{") }
            for (method, path, body, _) in paths {
                // Organization B's admin key on A's resources: same answer as an unknown id.
                let other = try await t.call(method, Self.fill(path, ids), key: t.b.admin, body: body.map { Self.fill($0, ids) })
                #expect(other.status == .notFound, "B \(method) \(path): \(other.text)")
                #expect(other.error == "not_found")
                #expect(other.json.keys == Shape.error)
                for set in [unknown, malformed] {
                    let r = try await t.call(method, Self.fill(path, set), body: body.map { Self.fill($0, ids) })
                    #expect(r.status == .notFound, "\(method) \(Self.fill(path, set)): \(r.text)")
                }
            }
            // A's resources survived B's attempts.
            #expect(try await t.get("/api/contacts/\(ids["contact"]!)").json["firstName"]?.string == "Ada")
            #expect(try await t.get("/api/lists/\(ids["list"]!)").json["name"]?.string == "Seed")
            #expect(try await t.get("/api/senders/\(ids["sender"]!)").status == .ok)
            #expect(try await t.get("/api/segments/\(ids["segment"]!)").status == .ok)
            #expect(try await t.get("/api/api-keys").json.ids.contains(ids["apikey"]!))
            // B's collections show none of A's rows.
            for path in ["/api/contacts", "/api/lists", "/api/segments", "/api/tags", "/api/organization/credits/ledger"] {
                let r = try await t.get(path, key: t.b.read)
                let items = r.json["data"]?.array ?? r.json.array
                #expect(items.isEmpty, "\(path) of B: \(r.text)")
            }
            #expect(try await t.get("/api/senders", key: t.b.read).json.array.isEmpty)
            #expect(try await t.get("/api/organization", key: t.b.read).json["name"]?.string == "Other")
        }
    }

    @Test("malformed JSON, non-object bodies and wrong types are 400 invalid_request listing the fields", arguments: TestEngine.available)
    func malformedBodies(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let ids = try await Self.seed(t)
            let jsonWrites = Self.writes.filter { $0.2 != nil }
            for (method, path, _, _) in jsonWrites {
                let uri = Self.fill(path, ids)
                for bad in ["{", "[1,2]", "\"text\"", "", "{\"a\":}", "null", "{\"name\":\"x\",}", "{\"tags\":[\"a\" ,\n]}"] {
                    let r = try await t.call(method, uri, body: bad)
                    #expect(r.status == .badRequest, "\(method) \(uri) with \(bad): \(r.text)")
                    #expect(r.error == "invalid_request")
                }
            }
            let cases: [(HTTPRequest.Method, String, String, [String])] = [
                (.post, "/api/contacts", #"{"phone":5,"firstName":true,"tags":"vip","customFields":[]}"#, ["phone", "firstName", "tags", "customFields"]),
                (.post, "/api/contacts", #"{"phone":"+19195550100","tags":["ok",3]}"#, ["tags[1]"]),
                (.patch, "/api/contacts/{contact}", #"{"email":1,"optedOut":"yes"}"#, ["email", "optedOut"]),
                (.post, "/api/lists", #"{"name":1,"description":[]}"#, ["name", "description"]),
                (.post, "/api/lists/{list}/contacts", #"{"contactIds":"x"}"#, ["contactIds"]),
                (.post, "/api/segments", #"{"name":7,"filter":{}}"#, ["name"]),
                (.post, "/api/senders", #"{"address":1,"provider":2,"isDefault":"yes","maxPerSecond":"9"}"#, ["address", "provider", "isDefault", "maxPerSecond"]),
                (.patch, "/api/organization", #"{"name":1,"timezone":2,"quietHours":"x"}"#, ["name", "timezone", "quietHours"]),
                (.post, "/api/organization/credits", #"{"amount":"5","reason":1}"#, ["amount", "reason"]),
                (.post, "/api/organization/credits", #"{"amount":1.5,"reason":"r"}"#, ["amount"]),
                (.post, "/api/api-keys", #"{"name":[],"role":1}"#, ["name", "role"]),
                // A wrong type and broken rules together: every failing field is listed.
                (.patch, "/api/organization", #"{"name":5,"timezone":"Mars/X","billingMode":"free"}"#, ["name", "timezone", "billingMode"]),
                (.post, "/api/organization/credits", #"{"amount":"x","reason":""}"#, ["amount", "reason"]),
                (.post, "/api/contacts", #"{"firstName":true,"phone":"12","timezone":"Mars/X"}"#, ["firstName", "phone", "timezone"]),
                (.post, "/api/lists", #"{"name":1,"description":"\#(String(repeating: "d", count: 2001))"}"#, ["name", "description"]),
                (.post, "/api/segments", #"{"name":7,"filter":{"tagsLogic":"XOR"}}"#, ["name", "filter.tagsLogic"]),
                (.post, "/api/senders", #"{"address":1,"maxPerSecond":-1}"#, ["address", "maxPerSecond", "provider"]),
                (.post, "/api/api-keys", #"{"name":[],"role":"root"}"#, ["name", "role"]),
            ]
            for (method, path, body, fields) in cases {
                let r = try await t.call(method, Self.fill(path, ids), body: body)
                #expect(r.status == .badRequest, "\(method) \(path) \(body): \(r.text)")
                #expect(r.error == "invalid_request")
                #expect(Set(r.fields) == Set(fields), "\(method) \(path) \(body)")
            }
        }
    }

    @Test("HEAD is GET without the body: same status, headers and authentication", arguments: TestEngine.available)
    func head(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            for (path, status) in [("/healthz", HTTPResponse.Status.ok), ("/api/organization", .ok), ("/api/contacts?limit=1", .ok), ("/api/nowhere", .notFound)] {
                let get = try await t.call(.get, path)
                let head = try await t.call(.head, path)
                #expect(get.status == status && head.status == status, "\(path)")
                #expect(head.body.readableBytes == 0, "\(path)")
                #expect(head.header("Content-Type") == get.header("Content-Type"), "\(path)")
                #expect(head.header("X-Request-Id") != nil, "\(path)")
            }
            #expect(try await t.call(.head, "/api/organization", anonymous: true).status == .unauthorized)
        }
    }

    @Test("bodies over 1 MiB are 413 payload_too_large", arguments: TestEngine.available)
    func payloadTooLarge(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let big = #"{"phone":"+19195550100","firstName":""# + String(repeating: "x", count: (1 << 20) + 10) + #""}"#
            for (method, path) in [(HTTPRequest.Method.post, "/api/contacts"), (.post, "/api/lists"), (.patch, "/api/organization"), (.post, "/api/segments/preview")] {
                let r = try await t.call(method, path, body: big)
                #expect(r.status == .contentTooLarge, "\(path)")
                #expect(r.error == "payload_too_large")
                #expect(r.header("X-Request-Id") != nil)
            }
            // With an Idempotency-Key the middleware collects the body first: still 413.
            let r = try await t.post("/api/contacts", big, headers: [HTTPField.Name("Idempotency-Key")!: "big"])
            #expect(r.status == .contentTooLarge)
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 0)
        }
    }

    @Test("bad limit and cursor on every list are 400 invalid_request naming the parameter", arguments: TestEngine.available)
    func badPaging(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let ids = try await Self.seed(t)
            let lists = ["/api/contacts", "/api/lists", "/api/segments", "/api/senders", "/api/organization/credits/ledger", "/api/api-keys",
                         "/api/tags", "/api/lists/{list}/contacts", "/api/segments/{segment}/contacts", "/api/contacts/imports/{import}/errors"]
            for path in lists.map({ Self.fill($0, ids) }) {
                for (query, field) in [("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"),
                                       ("cursor=garbage", "cursor"), ("cursor=AAAA", "cursor")] {
                    if path == "/api/tags" && query == "limit=201" { continue } // tags allow up to 1000
                    let r = try await t.get("\(path)?\(query)")
                    #expect(r.status == .badRequest, "\(path)?\(query): \(r.text)")
                    #expect(r.error == "invalid_request")
                    #expect(r.fields == [field], "\(path)?\(query)")
                }
                let both = try await t.get("\(path)?limit=0&cursor=zz")
                #expect(Set(both.fields) == ["limit", "cursor"], "\(path)")
            }
            // A real cursor of one list is not a cursor of another, nor of another sort.
            let keysPage = try await t.get("/api/api-keys?limit=1")
            let keysCursor = try #require(keysPage.header("X-Next-Cursor"))
            #expect(try await t.get("/api/api-keys?limit=1&cursor=\(keysCursor)").status == .ok)
            for path in lists.map({ Self.fill($0, ids) }) where path != "/api/api-keys" {
                let r = try await t.get("\(path)?cursor=\(keysCursor)")
                #expect(r.status == .badRequest && r.fields == ["cursor"], "\(path): \(r.text)")
            }
            _ = try await t.contact(#"{"phone":"+19195550177"}"#)
            let contactsCursor = try #require(try await t.get("/api/contacts?limit=1").json["nextCursor"]?.string)
            #expect(try await t.get("/api/contacts?limit=1&cursor=\(contactsCursor)").status == .ok)
            #expect(try await t.get("/api/contacts?limit=1&sort=created_at&cursor=\(contactsCursor)").fields == ["cursor"])
            #expect(try await t.get("/api/lists/\(ids["list"] ?? "")/contacts?cursor=\(contactsCursor)").fields == ["cursor"])
        }
    }

    @Test("every list walks to its end with no empty page, even when the last page is exactly full", arguments: TestEngine.available)
    func exactLastPage(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let ids = try await Self.seed(t)
            // At least three of everything.
            var contacts = [ids["contact"]!]
            for i in 0..<3 {
                contacts.append(try #require(try await t.contact(#"{"phone":"+1919555020\#(i)","tags":["t\#(i)","all"]}"#)["id"]?.string))
                _ = try await t.list("More \(i)")
                _ = try await t.post("/api/segments", #"{"name":"Seg \#(i)","filter":{}}"#)
                _ = try await t.post("/api/senders", #"{"address":"+1919555013\#(i)","provider":"simulator"}"#)
                _ = try await t.post("/api/organization/credits", #"{"amount":\#(i + 1),"reason":"seed"}"#)
                _ = try await t.post("/api/api-keys", #"{"name":"k\#(i)","role":"read"}"#)
                _ = try await t.post("/api/campaigns/draft", #"{"name":"Draft \#(i)"}"#)
            }
            let members = contacts.map { "\"\($0)\"" }.joined(separator: ",")
            _ = try await t.post("/api/lists/\(ids["list"]!)/contacts", #"{"contactIds":[\#(members)]}"#)
            let lists = ["/api/contacts", "/api/lists", "/api/segments", "/api/senders", "/api/organization/credits/ledger", "/api/api-keys",
                         "/api/tags", "/api/campaigns", "/api/lists/{list}/contacts", "/api/segments/{segment}/contacts"]
            for path in lists.map({ Self.fill($0, ids) }) {
                let everything = try await t.all(path, limit: 200)
                try #require(everything.count >= 3, "\(path) has \(everything.count) items")
                // One page holding exactly everything, then pages of one (the last one full too).
                #expect(try await t.all(path, limit: everything.count) == everything, "\(path)")
                #expect(try await t.all(path, limit: 1) == everything, "\(path)")
            }
        }
    }

    @Test("X-Request-Id is echoed when sane and generated otherwise, on successes and errors", arguments: TestEngine.available)
    func requestIds(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let name = HTTPField.Name("X-Request-Id")!
            for (method, path, anonymous) in [(HTTPRequest.Method.get, "/api/organization", false), (.get, "/api/contacts/nope", false),
                                              (.get, "/api/organization", true), (.get, "/healthz", true), (.get, "/api/nowhere", false)] {
                let echoed = try await t.call(method, path, anonymous: anonymous, headers: [name: "client-id-123"])
                #expect(echoed.header("X-Request-Id") == "client-id-123", "\(path)")
                if echoed.status.code >= 400 { #expect(echoed.json["requestId"]?.string == "client-id-123") }
                let generated = try await t.call(method, path, anonymous: anonymous)
                let id = try #require(generated.header("X-Request-Id"))
                #expect(UUID(uuidString: id) != nil)
                if generated.status.code >= 400 { #expect(generated.json["requestId"]?.string == id) }
                let insane = try await t.call(method, path, anonymous: anonymous, headers: [name: String(repeating: "a", count: 300)])
                #expect(insane.header("X-Request-Id").map { UUID(uuidString: $0) != nil } == true)
            }
            let two = [try await t.get("/api/tags"), try await t.get("/api/tags")].compactMap { $0.header("X-Request-Id") }
            #expect(Set(two).count == 2)
        }
    }

    @Test("Idempotency-Key: kept responses are sealed, so a new API key's secret never reaches the database; its replay still shows it",
          arguments: TestEngine.available)
    func idempotencySealed(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "new-key"]
            let first = try await t.post("/api/api-keys", #"{"name":"ci","role":"read"}"#, headers: key)
            #expect(first.status == .created, "\(first.text)")
            let secret = try #require(first.json["key"]?.string)
            let again = try await t.post("/api/api-keys", #"{"name":"ci","role":"read"}"#, headers: key)
            #expect(again.text == first.text && again.header("Idempotent-Replayed") == "true")
            let stored = try await t.storage.db.transaction { c in
                try await c.query("SELECT response_body FROM idempotency_keys", []).map { row -> [UInt8] in
                    if case .blob(let b) = row[0] { return b }
                    return Array(row.text(0).utf8)
                }
            }
            #expect(stored.count == 1)
            #expect(stored.allSatisfy { !String(decoding: $0, as: UTF8.self).contains(secret) && !String(decoding: $0, as: UTF8.self).contains("\"name\"") })
        }
    }

    @Test("Idempotency-Key: requests racing with one key run once; the others replay or are told it is in progress, never a 500",
          arguments: TestEngine.available)
    func idempotencyRace(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "race"]
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<12 {
                    group.addTask { Int(try await t.post("/api/organization/credits", #"{"amount":1,"reason":"race"}"#, headers: key).status.code) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(Set(statuses).isSubset(of: [200, 409]), "\(statuses)")
            #expect(statuses.contains(200))
            #expect(try await t.get("/api/organization").json["creditBalance"]?.int == 1)
        }
    }

    @Test("Idempotency-Key: the same body replays the first response, another body is 409", arguments: TestEngine.available)
    func idempotency(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "k-1"]
            let first = try await t.post("/api/lists", #"{"name":"Once"}"#, headers: key)
            #expect(first.status == .created)
            let again = try await t.post("/api/lists", #"{"name":"Once"}"#, headers: key)
            #expect(again.status == .created)
            #expect(again.text == first.text)
            #expect(again.header("Idempotent-Replayed") == "true")
            #expect(try await t.get("/api/lists").json.array.count == 1)
            let other = try await t.post("/api/lists", #"{"name":"Twice"}"#, headers: key)
            #expect(other.status == .conflict)
            #expect(other.error == "conflict")
            #expect(other.fields == ["Idempotency-Key"])
            #expect(try await t.get("/api/lists").json.array.count == 1)
            // Contacts: a replayed create stays a single contact; a validation error is replayed too.
            let c1 = try await t.post("/api/contacts", #"{"phone":"+19195550123"}"#, headers: [HTTPField.Name("Idempotency-Key")!: "c"])
            let c2 = try await t.post("/api/contacts", #"{"phone":"+19195550123"}"#, headers: [HTTPField.Name("Idempotency-Key")!: "c"])
            #expect(c1.status == .created && c2.status == .created)
            #expect(c2.json["outcome"]?.string == "created")
            let bad = try await t.post("/api/contacts", #"{"phone":"12"}"#, headers: [HTTPField.Name("Idempotency-Key")!: "bad"])
            let bad2 = try await t.post("/api/contacts", #"{"phone":"12"}"#, headers: [HTTPField.Name("Idempotency-Key")!: "bad"])
            #expect(bad.status == .unprocessableContent && bad2.status == .unprocessableContent)
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 1)
            // Keys are per API key: another key with the same Idempotency-Key runs the request.
            let byWriter = try await t.post("/api/lists", #"{"name":"Once"}"#, key: t.a.write, headers: key)
            #expect(byWriter.status == .created)
            #expect(byWriter.json["id"] != first.json["id"])
            // Credits are not added twice.
            let k2: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "credits"]
            _ = try await t.post("/api/organization/credits", #"{"amount":10,"reason":"top up"}"#, headers: k2)
            let replay = try await t.post("/api/organization/credits", #"{"amount":10,"reason":"top up"}"#, headers: k2)
            #expect(replay.json["creditBalance"]?.int == 10)
            #expect(try await t.get("/api/organization").json["creditBalance"]?.int == 10)
            let empty = try await t.post("/api/lists", #"{"name":"E"}"#, headers: [HTTPField.Name("Idempotency-Key")!: String(repeating: "x", count: 256)])
            #expect(empty.status == .badRequest)
            #expect(empty.fields == ["Idempotency-Key"])
        }
    }

    /// How a CSV goes to `POST /api/contacts/import` in `idempotentUpload`.
    enum UploadForm: String, CaseIterable, Sendable {
        /// `text/csv` with its Content-Length.
        case csv
        /// `text/csv` without a Content-Length, as a chunked upload arrives.
        case chunked
        /// The `file` part of a `multipart/form-data` body.
        case multipart
    }

    @Test("Idempotency-Key on a CSV import covers the file's bytes: the same file replays with one job, another file of the same length is 409 with none",
          arguments: TestEngine.available, UploadForm.allCases)
    func idempotentUpload(engine: TestEngine, form: UploadForm) async throws {
        try await TestApp.run(engine) { t in
            let ada = "phone,firstName\n+19195550100,Ada\n"
            let bob = "phone,firstName\n+19195550101,Bob\n"
            #expect(ada.utf8.count == bob.utf8.count)
            func upload(_ csv: String, key: String = "upload", boundary: String = "b0undary", apiKey: String? = nil) async throws -> Reply {
                var headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: key]
                var body = csv
                var contentType = "text/csv"
                if form == .multipart {
                    body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n\r\n\(csv)\r\n--\(boundary)--\r\n"
                    contentType = "multipart/form-data; boundary=\(boundary)"
                }
                if form != .chunked { headers[.contentLength] = "\(body.utf8.count)" }
                return try await t.call(.post, "/api/contacts/import", key: apiKey, body: body, contentType: contentType, headers: headers)
            }
            func jobs() async throws -> Int64 {
                try await t.storage.db.transaction { c in try await c.queryOne("SELECT COUNT(*) FROM imports", [])?.int(0) ?? -1 }
            }
            func receivedFiles() throws -> Int {
                try FileManager.default.contentsOfDirectory(atPath: t.dataDirectory).filter { $0.hasPrefix("import-") }.count
            }
            let first = try await upload(ada)
            #expect(first.status == .accepted, "\(first.text)")
            let again = try await upload(ada)
            #expect(again.status == .accepted && again.text == first.text && again.header("Idempotent-Replayed") == "true", "\(again.text)")
            if form == .multipart {
                // The same file in a body with another boundary (a retry by another client) is the same request.
                let retried = try await upload(ada, boundary: "other-boundary")
                #expect(retried.text == first.text && retried.header("Idempotent-Replayed") == "true", "\(retried.text)")
            }
            let other = try await upload(bob)
            #expect(other.status == .conflict && other.error == "conflict", "\(other.text)")
            #expect(other.fields == ["Idempotency-Key"])
            // Refused before the route runs (role too low): nothing is kept either.
            #expect(try await upload(bob, key: "by-reader", apiKey: t.a.read).status == .forbidden)
            // One job and its one file: the replayed and refused uploads were received and removed again.
            #expect(try await jobs() == 1)
            #expect(try receivedFiles() == 1)
            try await ImportService(storage: t.storage).processPending()
            let phones = try await t.get("/api/contacts").json["data"]?.array.compactMap { $0["phone"]?.string }
            #expect(phones == ["+19195550100"])
            #expect(try receivedFiles() == 0)
            // Another key imports the other file.
            #expect(try await upload(bob, key: "upload-2").status == .accepted)
            #expect(try await jobs() == 2)
        }
    }

    @Test("rate limit per key: 429 with Retry-After and the X-RateLimit headers", arguments: TestEngine.available)
    func rateLimit(engine: TestEngine) async throws {
        // One token every 100 s: the bucket cannot refill during the test, however slow the machine.
        try await TestApp.run(engine, configure: { $0.rateLimitPerSecond = 0.01; $0.rateLimitBurst = 3 }) { t in
            var statuses: [Int] = []
            var remaining: [String] = []
            var last: Reply?
            for _ in 0..<4 {
                let r = try await t.get("/api/organization")
                statuses.append(Int(r.status.code))
                remaining.append(r.header("X-RateLimit-Remaining") ?? "-")
                last = r
                // The rate per second as set, not rounded down to 0.
                if r.status == .ok { #expect(r.header("X-RateLimit-Limit") == "0.01") }
            }
            #expect(statuses == [200, 200, 200, 429])
            #expect(remaining == ["2", "1", "0", "0"])
            let limited = try #require(last)
            #expect(limited.error == "rate_limit_exceeded")
            #expect(limited.header("Retry-After").flatMap(Int.init).map { $0 >= 1 } == true)
            #expect(limited.header("X-RateLimit-Limit") == "0.01")
            #expect(limited.header("X-Request-Id") != nil)
            // Another key has its own bucket.
            #expect(try await t.get("/api/organization", key: t.a.read).status == .ok)
            // Unauthenticated and operations endpoints are not limited by the key's bucket.
            #expect(try await t.call(.get, "/healthz", anonymous: true).status == .ok)
        }
    }

    @Test("unknown routes are 404 and error bodies never leak internals", arguments: TestEngine.available)
    func unknownRoute(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let r = try await t.get("/api/nowhere")
            #expect(r.status == .notFound)
            #expect(r.json.keys == Shape.error)
        }
    }
}

@Suite("Strict JSON", .timeLimit(.minutes(10)))
struct StrictJSONTests {
    @Test("a comma before } or ] outside strings is malformed; inside strings it is text", arguments: [
        (#"{"a":1,}"#, true), ("[1, 2 ,\t\r\n]", true), (#"{"a":{"b":[1,]}}"#, true),
        (#"{"a":",}"}"#, false), (#"{"a":"\",]"}"#, false), (#"{"a":"x\\",}"#, true), (#"{"a":[1,2],"b":{}}"#, false),
    ])
    func trailingComma(body: String, trailing: Bool) {
        #expect(RequestFields.hasTrailingComma(Data(body.utf8)) == trailing)
    }
}
