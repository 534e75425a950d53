import Foundation
import HTTPTypes
import HeraldCore
import HeraldEngine
import HeraldTestSupport
import Testing

/// API.md §3: CSV import jobs and the CSV export.
@Suite("CSV import and export", .timeLimit(.minutes(10)))
struct ImportExportTests {
    @Test("an import counts created, merged, invalid and duplicate rows and reports row errors", arguments: TestEngine.available)
    func counts(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let existing = try await t.contact(#"{"phone":"+19195550100","firstName":"Old","lastName":"Keep","tags":["old"]}"#)
            let csv = """
                Phone,First_Name,last_name,email,postalCode,tags,optedOut,team
                919-555-0100,Ada,,ada@example.com,27601,vip;donor,,blue
                (919) 555-0101,Bob,Smith,,,a|b,true,red
                not a phone,Cy,,,,,,
                ,NoPhone,,,,,,
                +1 919 555 0101,Bobby,,,,,,green
                919-555-0102,Dee,,bad-email,,,,

                919-555-0103,"Quoted, Name",,,,,,
                """
            let job = try await t.importCSV(csv, key: t.a.write)
            #expect(job.keys == Shape.importJob)
            #expect(job["status"]?.string == "completed")
            #expect(job["totalRows"]?.int == 7)
            // A row breaking a field rule (Dee's email) is invalid as a whole and not written.
            #expect(job["created"]?.int == 2)
            #expect(job["merged"]?.int == 1)
            #expect(job["duplicateRows"]?.int == 1)
            #expect(job["invalid"]?.int == 3)
            #expect(isInstant(job["startedAt"]) && isInstant(job["completedAt"]))
            let errors = job["errors"]?.array ?? []
            #expect(errors.map { $0["row"]?.int ?? 0 } == [4, 5, 7], "\(errors)")
            #expect(errors.map { $0["field"]?.string ?? "" } == ["phone", "phone", "email"])
            #expect(errors.allSatisfy { !($0["message"]?.string ?? "").isEmpty })

            let ada = try await t.get("/api/contacts/\(existing["id"]!.string!)").json
            #expect(ada["firstName"]?.string == "Ada")
            #expect(ada["lastName"]?.string == "Keep") // an empty cell leaves the field alone
            #expect(ada["email"]?.string == "ada@example.com")
            #expect(ada["zip"]?.string == "27601")
            #expect(ada["tags"] == .array([.string("donor"), .string("old"), .string("vip")]))
            #expect(ada["customFields"] == .object(["team": .string("blue")]))
            let bob = try #require(try await t.get("/api/contacts?search=5550101").json["data"]?[0])
            #expect(bob["firstName"]?.string == "Bobby")
            #expect(bob["lastName"]?.string == "Smith")
            #expect(bob["tags"] == .array([.string("a"), .string("b")]))
            #expect(bob["isOptedIn"]?.bool == false)
            #expect(bob["customFields"] == .object(["team": .string("green")]))
            #expect(try await t.get("/api/contacts?search=5550102").json["data"]?.array.isEmpty == true)
            let quoted = try #require(try await t.get("/api/contacts?search=5550103").json["data"]?[0])
            #expect(quoted["firstName"]?.string == "Quoted, Name")
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 3)
            // Importing the same file again merges every row.
            let second = try await t.importCSV(csv)
            #expect(second["created"]?.int == 0)
            #expect(second["merged"]?.int == 3)
            #expect(second["duplicateRows"]?.int == 1)
            // Organization B cannot see the job.
            #expect(try await t.get("/api/contacts/imports/\(job["id"]!.string!)", key: t.b.admin).status == .notFound)
        }
    }

    @Test("every row error is kept: the job embeds the first 1000, /errors pages through all of them in row order", arguments: TestEngine.available)
    func allErrors(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            // 1,500 invalid rows (CSV rows 2…1501): a bad phone each, and every hundredth a bad
            // email and a bad optedOut instead, two errors of one row (in field order).
            var csv = "phone,email,optedOut\n"
            var expected: [String] = []
            for i in 0..<1500 {
                let row = i + 2
                if i % 100 == 99 {
                    csv += "+1919555\(String(format: "%04d", i)),not-an-email,maybe\n"
                    expected += ["\(row):email", "\(row):optedOut"]
                } else {
                    csv += "x\(i),,\n"
                    expected.append("\(row):phone")
                }
            }
            let job = try await t.importCSV(csv, key: t.a.write)
            #expect(job["status"]?.string == "completed", "\(job)")
            #expect(job["totalRows"]?.int == 1500 && job["invalid"]?.int == 1500 && job["created"]?.int == 0)
            let id = try #require(job["id"]?.string)
            func label(_ e: FilterJSON) -> String { "\(e["row"]?.int ?? 0):\(e["field"]?.string ?? "")" }
            let embedded = job["errors"]?.array ?? []
            #expect(embedded.map(label) == Array(expected.prefix(1000)))
            // Pages of 100 split row 101's two errors across a page boundary; the read key may list them.
            let all = try await t.all("/api/contacts/imports/\(id)/errors", limit: 100, key: t.a.read)
            #expect(all.map(label) == expected)
            #expect(all.allSatisfy { $0.keys == ["row", "field", "message"] && !($0["message"]?.string ?? "").isEmpty })
            #expect(Array(all.prefix(1000)) == embedded)
            let first = try await t.get("/api/contacts/imports/\(id)/errors?includeTotal=true", key: t.a.read)
            #expect(first.status == .ok)
            #expect(first.json.keys == ["data", "nextCursor", "total"])
            #expect(first.json["data"]?.array.count == 50) // the default limit
            #expect(first.json["total"]?.int == expected.count)
            #expect(try await t.get("/api/contacts/imports/\(id)/errors?limit=200").json["data"]?.array.count == 200)
            // Bad paging parameters; a cursor of another list, or of another import's errors, is not one of this list.
            for (query, fields) in [("limit=0", ["limit"]), ("limit=201", ["limit"]), ("limit=x", ["limit"]), ("cursor=garbage", ["cursor"]),
                                    ("includeTotal=maybe", ["includeTotal"]), ("limit=0&cursor=zz", ["limit", "cursor"])] {
                let r = try await t.get("/api/contacts/imports/\(id)/errors?\(query)")
                #expect(r.status == .badRequest && r.error == "invalid_request", "\(query): \(r.text)")
                #expect(Set(r.fields) == Set(fields), "\(query): \(r.text)")
            }
            let cursor = try #require(first.json["nextCursor"]?.string)
            let other = try #require(try await t.importCSV("phone\nx\ny\n")["id"]?.string)
            #expect(try await t.get("/api/contacts/imports/\(other)/errors?cursor=\(cursor)").fields == ["cursor"])
            _ = try await t.contact(#"{"phone":"+19195550100"}"#)
            _ = try await t.contact(#"{"phone":"+19195550101"}"#)
            let contactsCursor = try #require(try await t.get("/api/contacts?limit=1").json["nextCursor"]?.string)
            #expect(try await t.get("/api/contacts/imports/\(id)/errors?cursor=\(contactsCursor)").fields == ["cursor"])
            #expect(try await t.all("/api/contacts/imports/\(other)/errors", limit: 1).map(label) == ["2:phone", "3:phone"])
            // Another organization's import, an unknown one and a malformed id are 404.
            for (path, key) in [("/api/contacts/imports/\(id)/errors", t.b.admin), ("/api/contacts/imports/\(id)/errors", t.b.read),
                                ("/api/contacts/imports/\(UUID().uuidString.lowercased())/errors", t.a.read), ("/api/contacts/imports/nope/errors", t.a.read)] {
                let r = try await t.get(path, key: key)
                #expect(r.status == .notFound && r.error == "not_found", "\(path): \(r.text)")
            }
        }
    }

    @Test("header aliases are matched case-insensitively", arguments: ["phoneNumber", "MOBILE", "phone"])
    func phoneAliases(alias: String) async throws {
        try await TestApp.run(.sqlite) { t in
            let job = try await t.importCSV("\(alias),firstName,LAST_NAME,Zip,City,State,Timezone,Email\n9195550100,Ada,Lovelace,27601,Raleigh,NC,America/New_York,a@b.org\n")
            #expect(job["created"]?.int == 1)
            let c = try #require(try await t.get("/api/contacts").json["data"]?[0])
            #expect(c["phone"]?.string == "+19195550100")
            #expect(c["firstName"]?.string == "Ada" && c["lastName"]?.string == "Lovelace")
            #expect(c["zip"]?.string == "27601" && c["city"]?.string == "Raleigh" && c["state"]?.string == "NC")
            #expect(c["timezone"]?.string == "America/New_York" && c["email"]?.string == "a@b.org")
            #expect(c["customFields"] == .object([:]))
        }
    }

    @Test("the tags, listId and defaultCountry query options", arguments: TestEngine.available)
    func options(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let list = try await t.list("Imported")
            let job = try await t.importCSV("phone,tags\n07400 123123,x\n07400 123124,\n", query: "?tags=Spring,%20Fair&listId=\(list)&defaultCountry=gb")
            #expect(job["created"]?.int == 2)
            let members = try await t.get("/api/lists/\(list)/contacts").json["data"]?.array ?? []
            #expect(Set(members.compactMap { $0["phone"]?.string }) == ["+447400123123", "+447400123124"])
            #expect(Set(members.map { $0["tags"] ?? .null }) == [.array([.string("fair"), .string("spring"), .string("x")]), .array([.string("fair"), .string("spring")])])
            #expect(try await t.get("/api/lists/\(list)").json["contactCount"]?.int == 2)
            // Bad options are refused before anything is stored.
            let otherList = try await t.list("B's", key: t.b.write)
            let bad = try await t.call(.post, "/api/contacts/import?listId=\(otherList)&defaultCountry=XX", body: "phone\n1\n", contentType: "text/csv")
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields) == ["listId", "defaultCountry"], "\(bad.text)")
        }
    }

    @Test("multipart/form-data with a file field", arguments: TestEngine.available)
    func multipart(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let boundary = "----herald1234"
            let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\nContent-Type: text/csv\r\n\r\n"
                + "phone,firstName\r\n9195550100,Ada\r\n9195550101,Bob\r\n"
                + "\r\n--\(boundary)--\r\n"
            let r = try await t.call(.post, "/api/contacts/import", body: body, contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(r.status == .accepted, "\(r.text)")
            try await ImportService(storage: t.storage).processPending()
            let job = try await t.get("/api/contacts/imports/\(r.json["id"]!.string!)").json
            #expect(job["status"]?.string == "completed")
            #expect(job["created"]?.int == 2)
            #expect(job["totalRows"]?.int == 2)
            let noFile = try await t.call(.post, "/api/contacts/import", body: "--\(boundary)\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--\(boundary)--\r\n",
                                          contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(noFile.status == .badRequest)
            #expect(noFile.fields == ["file"])
        }
    }

    @Test("a header without a phone column fails the job with a reason", arguments: TestEngine.available)
    func badHeader(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let job = try await t.importCSV("name,email\nAda,a@b.org\n")
            #expect(job["status"]?.string == "failed")
            #expect(job["failureReason"]?.string?.contains("phone") == true)
            #expect(job["created"]?.int == 0)
            #expect(isInstant(job["completedAt"]))
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 0)
            let dup = try await t.importCSV("phone,mobile\n1,2\n")
            #expect(dup["status"]?.string == "failed")
        }
    }

    @Test("a bad header fails the job naming only the header, and later rows are never read as headers", arguments: TestEngine.available)
    func badHeaderOnly(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let job = try await t.importCSV("phone,firstName,★,team\n+19195550140,Ada,x,blue\n+19195550141,Bob,y,red\n")
            #expect(job["status"]?.string == "failed")
            let reason = try #require(job["failureReason"]?.string)
            #expect(reason.contains("header[2]"), "\(reason)")
            #expect(!reason.contains("9195550140") && !reason.contains("Ada"), "\(reason)")
            #expect(!reason.contains("a phone column is required"), "\(reason)")
            #expect(try await t.get("/api/contacts?includeTotal=true").json["total"]?.int == 0)
        }
    }

    @Test("spreadsheet headers import; each failing field of a row is its own error", arguments: TestEngine.available)
    func spreadsheetHeaders(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let job = try await t.importCSV("""
                Phone Number,First Name,Last Name,Email Address,Date of Birth,2024 spend,optedOut
                (919) 555-0150,Ada,Lovelace,ada@example.org,1815-12-10,12,no
                +19195550151,Bob,,not-an-email,,,maybe

                """)
            #expect(job["status"]?.string == "completed", "\(job)")
            #expect(job["created"]?.int == 1)
            #expect(job["invalid"]?.int == 1)
            let errors = job["errors"]?.array ?? []
            #expect(errors.map { "\($0["row"]?.int ?? 0):\($0["field"]?.string ?? "")" }.sorted() == ["3:email", "3:optedOut"], "\(errors)")
            let ada = try await t.get("/api/contacts?search=Lovelace").json["data"]?.array.first
            #expect(ada?["phone"]?.string == "+19195550150")
            #expect(ada?["email"]?.string == "ada@example.org")
            #expect(ada?["customFields"]?["Date_of_Birth"]?.string == "1815-12-10")
            #expect(ada?["customFields"]?["field_2024_spend"]?.string == "12")
        }
    }

    @Test("an import or a merge never undoes an opt-out; opt-in does", arguments: TestEngine.available)
    func optOutKept(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let id = try #require(try await t.contact(#"{"phone":"+19195550160","firstName":"Ada"}"#)["id"]?.string)
            #expect(try await t.post("/api/contacts/\(id)/opt-out", "").status == .ok)
            for value in ["false", "no", "0"] {
                let job = try await t.importCSV("phone,optedOut,firstName\n+19195550160,\(value),Ada \(value)\n")
                #expect(job["merged"]?.int == 1)
                let c = try await t.get("/api/contacts/\(id)").json
                #expect(c["isOptedIn"]?.bool == false, "optedOut=\(value)")
                #expect(c["firstName"]?.string == "Ada \(value)")
            }
            let merged = try await t.post("/api/contacts", #"{"phone":"+19195550160","optedOut":false}"#)
            #expect(merged.json["outcome"]?.string == "merged")
            #expect(merged.json["isOptedIn"]?.bool == false)
            // A file can still opt people out, and the opt-in endpoint resubscribes.
            _ = try await t.contact(#"{"phone":"+19195550161"}"#)
            #expect(try await t.importCSV("phone,optedOut\n+19195550161,yes\n")["merged"]?.int == 1)
            let other = try await t.get("/api/contacts?optedOut=true").json["data"]?.array ?? []
            #expect(Set(other.compactMap { $0["phone"]?.string }) == ["+19195550160", "+19195550161"])
            #expect(try await t.post("/api/contacts/\(id)/opt-in", "").json["isOptedIn"]?.bool == true)
        }
    }

    @Test("an opt-out outlives its contact: created again by POST, an import or inline recipients, the phone starts opted out; opt-in lifts it", arguments: TestEngine.available)
    func suppressedAfterDelete(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            func optOutThenDelete(_ phone: String) async throws {
                let id = try #require(try await t.contact(#"{"phone":"\#(phone)"}"#)["id"]?.string)
                #expect(try await t.post("/api/contacts/\(id)/opt-out", "").status == .ok)
                #expect(try await t.delete("/api/contacts/\(id)").status == .noContent)
            }
            try await optOutThenDelete("+19195550190")
            try await optOutThenDelete("+19195550191")
            try await optOutThenDelete("+19195550192")
            let again = try await t.post("/api/contacts", #"{"phone":"(919) 555-0190","firstName":"Back"}"#)
            #expect(again.json["outcome"]?.string == "created")
            #expect(again.json["isOptedIn"]?.bool == false && again.json["optedOutAt"]?.string != nil, "\(again.text)")
            #expect(try await t.importCSV("phone,firstName\n+19195550191,Imported\n")["created"]?.int == 1)
            let inline = try await t.post("/api/campaigns", #"{"name":"Inline","message":"Hi","recipients":[{"phone":"+19195550192"},{"phone":"+19195550193"}]}"#)
            #expect(inline.status == .created, "\(inline.text)")
            let opted = try await t.get("/api/contacts?optedOut=true").json["data"]?.array ?? []
            #expect(Set(opted.compactMap { $0["phone"]?.string }) == ["+19195550190", "+19195550191", "+19195550192"])
            // Another organization is not affected.
            #expect(try await t.contact(#"{"phone":"+19195550190"}"#, key: t.b.write)["isOptedIn"]?.bool == true)
            // An opt-in lifts the suppression: deleted and created again, the phone is opted in.
            let back = try #require(again.json["id"]?.string)
            #expect(try await t.post("/api/contacts/\(back)/opt-in", "").json["isOptedIn"]?.bool == true)
            #expect(try await t.delete("/api/contacts/\(back)").status == .noContent)
            #expect(try await t.contact(#"{"phone":"+19195550190"}"#)["isOptedIn"]?.bool == true)
        }
    }

    @Test("an export imports back into another organization unchanged", arguments: TestEngine.available)
    func exportRoundTrip(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            _ = try await t.contact(#"{"phone":"+19195550170","firstName":"Ada","lastName":"Lovelace","email":"ada@example.org","city":"London","state":"SC","zip":"29401","timezone":"Europe/London","tags":["vip","donor"],"customFields":{"team":"blue"}}"#)
            _ = try await t.contact(#"{"phone":"+19195550171","firstName":"Bob","optedOut":true}"#)
            let csv = try await t.get("/api/contacts/export").text
            let job = try await t.importCSV(csv, key: t.b.write)
            #expect(job["status"]?.string == "completed", "\(job)")
            #expect(job["created"]?.int == 2)
            let errors = job["errors"]?.array ?? []
            #expect(errors.isEmpty, "\(job)")
            let a = (try await t.get("/api/contacts").json["data"]?.array ?? []).sorted { ($0["phone"]?.string ?? "") < ($1["phone"]?.string ?? "") }
            let b = (try await t.get("/api/contacts", key: t.b.read).json["data"]?.array ?? []).sorted { ($0["phone"]?.string ?? "") < ($1["phone"]?.string ?? "") }
            let kept = ["phone", "firstName", "lastName", "email", "city", "state", "zip", "timezone", "tags", "isOptedIn", "isTextable"]
            #expect(b.count == 2)
            func object(_ j: FilterJSON?) -> [String: FilterJSON] { if case .object(let o)? = j { o } else { [:] } }
            for (x, y) in zip(a, b) {
                for k in kept { #expect(x[k] == y[k], "\(k): \(String(describing: x[k])) vs \(String(describing: y[k]))") }
                // Nothing is added: Herald's own columns (contactId, createdAt, …) are not custom fields.
                #expect(object(y["customFields"]) == object(x["customFields"]))
            }
        }
    }

    @Test("tricky values survive export and import: formula characters, apostrophes, limits, quotes, newlines, non-ASCII", arguments: TestEngine.available)
    func exportRoundTripTricky(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            func json(_ object: [String: Any]) throws -> String { String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self) }
            let atLimit100 = "=" + String(repeating: "x", count: 99)
            let atLimit1000 = "+" + String(repeating: "é", count: 999)
            let bodies: [[String: Any]] = [
                ["phone": "+19195550170", "firstName": #"=HYPERLINK("http://x.example","click")"#, "lastName": "+cmd", "email": "-ada@example.org",
                 "city": "@home", "state": "=NC", "zip": "-1", "tags": ["=cmd", "vip", "'=q", "@a"],
                 "customFields": ["a": "=x", "b": "''=x", "c": "'", "d": "-1", "e": "+1 919 555 0100", "f": atLimit1000,
                                  "g": "line1\nline2, \"quoted\"; yes", "h": "naïve 日本 😀", "i": "'=x", "n": 42, "t": "\t=tab"]],
                ["phone": "+19195550171", "firstName": atLimit100, "lastName": "'=already", "city": "\r=x", "state": "''", "zip": "+27601",
                 "tags": ["'"], "customFields": ["a": " =x", "b": "\n=y", "c": "\"=\"", "f": String(repeating: "a", count: 1000)]],
                ["phone": "+19195550172", "firstName": "Zoë", "lastName": "O'Brien, Jr.", "email": "z@example.org", "timezone": "America/New_York", "tags": ["=cmd", "donor"]],
            ]
            for body in bodies { _ = try await t.contact(try json(body)) }
            let csv = try await t.get("/api/contacts/export").text
            let job = try await t.importCSV(csv, key: t.b.write)
            #expect(job["status"]?.string == "completed", "\(job)")
            #expect(job["created"]?.int == bodies.count, "\(job)")
            let errors = job["errors"]?.array ?? []
            #expect(errors.isEmpty, "\(job)")
            func sorted(_ items: [FilterJSON]) -> [FilterJSON] { items.sorted { ($0["phone"]?.string ?? "") < ($1["phone"]?.string ?? "") } }
            let a = sorted(try await t.get("/api/contacts").json["data"]?.array ?? [])
            let b = sorted(try await t.get("/api/contacts", key: t.b.read).json["data"]?.array ?? [])
            try #require(a.count == bodies.count && b.count == bodies.count)
            // Values as sent, trimmed (" =x" is "=x" on both paths).
            #expect(a[0]["firstName"]?.string == #"=HYPERLINK("http://x.example","click")"#)
            #expect(a[1]["firstName"]?.string == atLimit100)
            #expect(a[0]["customFields"]?["f"]?.string == atLimit1000)
            #expect(a[1]["customFields"]?["a"]?.string == "=x" && a[1]["customFields"]?["b"]?.string == "=y")
            #expect(a[1]["city"]?.string == "=x")
            let derived: Set<String> = ["id", "createdAt", "updatedAt", "optedOutAt"]
            for (x, y) in zip(a, b) {
                guard case .object(let original) = x, case .object(let imported) = y else { Issue.record("not objects"); continue }
                #expect(Set(original.keys) == Set(imported.keys))
                for key in original.keys.sorted() where !derived.contains(key) {
                    #expect(original[key] == imported[key], "\(key): \(String(describing: original[key])) vs \(String(describing: imported[key]))")
                }
            }
        }
    }

    @Test("a header without Latin letters becomes a custom field; a duplicate header names both columns", arguments: TestEngine.available)
    func headerNames(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let job = try await t.importCSV("phone,名前,firstName\n+19195550140,太郎,Taro\n")
            #expect(job["status"]?.string == "completed", "\(job)")
            let c = try #require(try await t.get("/api/contacts").json["data"]?.array.first)
            #expect(c["customFields"] == .object(["ming_qian": .string("太郎")]), "\(c)")
            #expect(c["firstName"]?.string == "Taro")
            let dup = try await t.importCSV("phone,Date of Birth,Date_of_Birth\n+19195550141,x,y\n")
            #expect(dup["status"]?.string == "failed")
            #expect(dup["failureReason"]?.string?.contains(#"header[2]: "Date_of_Birth" names the same field as "Date of Birth" (header[1])"#) == true, "\(dup)")
        }
    }

    @Test("import requests: content type, empty body, role", arguments: TestEngine.available)
    func importRequests(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            let json = try await t.call(.post, "/api/contacts/import", body: "{}", contentType: "application/json")
            #expect(json.status == .unsupportedMediaType)
            let empty = try await t.call(.post, "/api/contacts/import", body: "", contentType: "text/csv")
            #expect(empty.status == .badRequest)
            #expect(try await t.call(.post, "/api/contacts/import", key: t.a.read, body: "phone\n1\n", contentType: "text/csv").status == .forbidden)
            #expect(try await t.get("/api/contacts/imports/\(UUID().uuidString)").status == .notFound)
            #expect(try await t.get("/api/contacts/imports/nope").status == .notFound)
        }
    }

    @Test("export: CSV of the filtered contacts, formula injection neutralized", arguments: TestEngine.available)
    func export(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            _ = try await t.contact(#"{"phone":"+19195550100","firstName":"=SUM(A1)","lastName":"O, \"Quote\"","tags":["vip","a"],"customFields":{"team":"+blue"}}"#)
            _ = try await t.contact(#"{"phone":"+19195550101","firstName":"Plain","state":"SC"}"#)
            _ = try await t.contact(#"{"phone":"+447400123123","firstName":"Other org"}"#, key: t.b.write)
            let r = try await t.get("/api/contacts/export", key: t.a.read)
            #expect(r.status == .ok)
            #expect(r.header("Content-Type")?.hasPrefix("text/csv") == true)
            #expect(r.header("Content-Disposition")?.contains("attachment") == true)
            let lines = r.text.split(whereSeparator: \.isNewline).map(String.init)
            #expect(lines.count == 3)
            #expect(lines[0] == "contactId,phone,firstName,lastName,email,city,state,zip,timezone,tags,optedOut,optedOutAt,isTextable,createdAt,updatedAt,team")
            let formula = try #require(lines.first { $0.contains("SUM") })
            #expect(formula.contains(",'=SUM(A1),"))
            #expect(formula.contains(#""O, ""Quote"""#))
            #expect(formula.contains(",a;vip,"))
            #expect(formula.contains(",'+blue"))
            #expect(!r.text.contains("Other org"))
            // Filters apply.
            let filtered = try await t.get("/api/contacts/export?state=SC").text.split(whereSeparator: \.isNewline)
            #expect(filtered.count == 2)
            #expect(filtered[1].contains("Plain"))
            #expect(try await t.get("/api/contacts/export?tags=vip").text.split(whereSeparator: \.isNewline).count == 2)
            #expect(try await t.get("/api/contacts/export?optedOut=maybe").status == .badRequest)
            // Every contact, across internal pages.
            for i in 0..<3 { _ = try await t.contact(#"{"phone":"+1919555\#(300 + i)0"}"#) }
            #expect(try await t.get("/api/contacts/export").text.split(whereSeparator: \.isNewline).count == 6)
        }
    }
}
