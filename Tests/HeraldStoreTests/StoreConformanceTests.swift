import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// Every store behaves the same on every engine: operations, tenant scoping, migrations,
/// idempotency claims, import counters and unique violations.
@Suite("Storage conformance", .timeLimit(.minutes(10)))
struct StoreConformanceTests {
    /// Two organizations on a fresh database.
    static func twoOrgs(_ storage: Storage) async throws -> (OrganizationScope, OrganizationScope) {
        let a = try await storage.organizations.create(name: "A")
        let b = try await storage.organizations.create(name: "B", timezone: "Europe/London", defaultCountry: "GB", billingMode: .credits)
        return (OrganizationScope(key: a.key, id: a.id), OrganizationScope(key: b.key, id: b.id))
    }

    static func changes(_ phone: String, _ configure: (inout ContactChanges) -> Void = { _ in }) -> ContactChanges {
        var ch = ContactChanges()
        ch.phone = phone
        configure(&ch)
        return ch
    }

    @Test("migrations are idempotent and complete", arguments: TestEngine.available)
    func migrations(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let migrator = Migrator(database: storage.db)
            #expect(try await migrator.currentVersion() == migrator.latestVersion)
            #expect(migrator.latestVersion >= 1)
            #expect(try await migrator.migrate() == [])
            #expect(try await migrator.migrate() == [])
            #expect(try await migrator.currentVersion() == migrator.latestVersion)
            let recorded = try await storage.db.read { c in try await c.queryOne("SELECT COUNT(*) FROM schema_migrations", [])?.int(0) ?? 0 }
            #expect(recorded == Int64(Set(Schema.migrations.map(\.version)).count))
        }
    }

    @Test("organizations: create, get, find, update, credits and ledger", arguments: TestEngine.available)
    func organizations(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            #expect(try await storage.organizations.count() == 2)
            let orgA = try await storage.organizations.get(a)
            #expect(orgA.name == "A" && orgA.timezone == "America/New_York" && orgA.defaultCountry == "US" && orgA.billingMode == .unlimited)
            #expect(orgA.quietHoursStart == "08:00" && orgA.quietHoursEnd == "21:00" && orgA.creditBalance == 0)
            #expect(try await storage.organizations.find(id: a.id.uppercased())?.key == a.key)
            #expect(try await storage.organizations.find(id: "nope") == nil)
            #expect(try await storage.organizations.find(id: UUID().uuidString) == nil)
            var s = OrganizationStore.Settings()
            s.name = "A2"
            s.quietHoursEnd = "22:00"
            s.billingMode = .credits
            let updated = try await storage.organizations.update(a, s)
            #expect(updated.name == "A2" && updated.quietHoursEnd == "22:00" && updated.quietHoursStart == "08:00" && updated.billingMode == .credits)
            #expect(try await storage.organizations.get(b).name == "B")
            #expect(try await storage.organizations.addCredits(a, amount: 50, reason: "buy") == 50)
            #expect(try await storage.organizations.addCredits(a, amount: -20, reason: "use", campaignId: "c-1") == 30)
            #expect(try await storage.organizations.addCredits(b, amount: 7, reason: "b") == 7)
            let ledger = try await storage.organizations.ledger(a, before: nil, limit: 10)
            #expect(ledger.map(\.amount) == [-20, 50])
            #expect(ledger.map(\.balanceAfter) == [30, 50])
            #expect(ledger.first?.campaignId == "c-1")
            let page2 = try await storage.organizations.ledger(a, before: ledger[0].key, limit: 10)
            #expect(page2.map(\.amount) == [50])
            #expect(try await storage.organizations.ledger(b, before: nil, limit: 10).map(\.amount) == [7])
        }
    }

    @Test("credit removals side by side never overdraw: the floor is tested in the same statement", arguments: TestEngine.available)
    func creditFloor(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            try await storage.organizations.addCredits(a, amount: 100, reason: "buy")
            let results = try await withThrowingTaskGroup(of: Int64?.self) { group in
                for _ in 0..<10 { group.addTask { try await storage.organizations.addCredits(a, amount: -40, reason: "use", floor: 0) } }
                return try await group.reduce(into: [Int64?]()) { $0.append($1) }
            }
            #expect(results.compactMap { $0 }.sorted() == [20, 60])
            #expect(try await storage.organizations.get(a).creditBalance == 20)
            #expect(try await storage.organizations.ledger(a, before: nil, limit: 20).map(\.balanceAfter).allSatisfy { $0 >= 0 })
            // Refused without a trace; another organization's balance is its own.
            #expect(try await storage.organizations.addCredits(b, amount: -1, reason: "use", floor: 0) == nil)
            #expect(try await storage.organizations.ledger(b, before: nil, limit: 20).isEmpty)
        }
    }

    @Test("API keys: create, authenticate, list, revoke, per organization; duplicate secret is a conflict", arguments: TestEngine.available)
    func apiKeys(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            let (key, secret) = try await storage.organizations.createKey(a, name: "k", role: .write)
            #expect(secret.hasPrefix("hk_") && secret.count >= 35)
            #expect(key.prefix == String(secret.prefix(7)))
            let auth = try #require(try await storage.organizations.authenticate(secret: secret))
            #expect(auth.id == key.id && auth.role == .write && auth.organization == a)
            #expect(try await storage.organizations.authenticate(secret: secret + "x") == nil)
            #expect(try await storage.organizations.listKeys(a).map(\.id) == [key.id])
            #expect(try await storage.organizations.listKeys(b).isEmpty)
            await #expect(throws: StoreError.notFound("api key")) { try await storage.organizations.revokeKey(b, id: key.id) }
            await #expect(throws: StoreError.notFound("api key")) { try await storage.organizations.revokeKey(a, id: "junk") }
            #expect(try await storage.organizations.authenticate(secret: secret) != nil)
            await #expect(throws: StoreError.self) { try await storage.organizations.createKey(b, name: "same", role: .read, secret: secret) }
            try await storage.organizations.revokeKey(a, id: key.id)
            #expect(try await storage.organizations.authenticate(secret: secret) == nil)
            #expect(try await storage.organizations.listKeys(a).isEmpty)
            await #expect(throws: StoreError.notFound("api key")) { try await storage.organizations.revokeKey(a, id: key.id) }
        }
    }

    @Test("contacts: upsert, get, find, update, delete, opt-out, tags, custom fields, scoped", arguments: TestEngine.available)
    func contacts(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            let store = storage.contacts
            let (c, outcome) = try await store.upsert(a, Self.changes("+19195550100") {
                $0.firstName = .set("Ada"); $0.email = .set("ada@example.com"); $0.tags = ["vip", "donor"]; $0.customFields = ["team": "blue"]
            })
            #expect(outcome == .created)
            #expect(c.tags == ["donor", "vip"] && c.customFields == ["team": "blue"] && c.isOptedIn && c.isTextable)
            let (other, o2) = try await store.upsert(b, Self.changes("+19195550100"))
            #expect(o2 == .created && other.id != c.id)
            #expect(try await store.get(a, id: c.id.uppercased()).id == c.id)
            #expect(try await store.find(a, phone: "+19195550100")?.id == c.id)
            #expect(try await store.find(b, phone: "+19195550100")?.id == other.id)
            #expect(try await store.find(a, phone: "+19195550199") == nil)
            // Tenant scoping: B can neither read, update, opt out nor delete A's contact.
            await #expect(throws: StoreError.notFound("contact")) { try await store.get(b, id: c.id) }
            await #expect(throws: StoreError.notFound("contact")) { try await store.update(b, id: c.id, Self.changes("+19195550111")) }
            await #expect(throws: StoreError.notFound("contact")) { try await store.setOptedOut(b, id: c.id, true) }
            await #expect(throws: StoreError.notFound("contact")) { try await store.delete(b, id: c.id) }
            await #expect(throws: StoreError.notFound("contact")) { try await store.get(a, id: "not-a-uuid") }
            #expect(try await store.get(a, id: c.id).firstName == "Ada")
            // Update: replace tags, patch custom fields, clear a field.
            var ch = ContactChanges()
            ch.email = .clear
            ch.tags = ["new"]
            ch.replaceTags = true
            ch.customFields = ["team": nil, "score": "9"]
            let u = try await store.update(a, id: c.id, ch)
            #expect(u.email == nil && u.firstName == "Ada" && u.tags == ["new"] && u.customFields == ["score": "9"])
            #expect(u.updatedAt >= c.updatedAt)
            // Opt out keeps the first instant; opt in clears it.
            let out = try await store.setOptedOut(a, id: c.id, true)
            let outAgain = try await store.setOptedOut(a, id: c.id, true)
            #expect(out.optedOutAt != nil && outAgain.optedOutAt == out.optedOutAt && !out.isOptedIn)
            #expect(try await store.setOptedOut(a, id: c.id, false).optedOutAt == nil)
            // Unique phone per organization maps to a conflict.
            let (second, _) = try await store.upsert(a, Self.changes("+19195550101"))
            await #expect(throws: StoreError.conflict(field: "phone", message: "another contact already has this phone number")) {
                try await store.update(a, id: second.id, Self.changes("+19195550100"))
            }
            // Tags and custom field names are per organization.
            _ = try await store.upsert(b, Self.changes("+19195550100") { $0.tags = ["b-only"]; $0.customFields = ["bfield": "x"] })
            #expect(try await store.tags(a).map(\.name) == ["new"])
            #expect(try await store.tags(b).map { "\($0.name)=\($0.contactCount)" } == ["b-only=1"])
            #expect(try await store.customFieldNames(a) == ["score"])
            #expect(try await store.customFieldNames(b) == ["bfield"])
            try await store.delete(a, id: c.id)
            await #expect(throws: StoreError.notFound("contact")) { try await store.get(a, id: c.id) }
            #expect(try await store.get(b, id: other.id).id == other.id)
            #expect(try await store.tags(a).isEmpty)
        }
    }

    @Test("contact listing: filters, keyset pagination and totals are scoped", arguments: TestEngine.available)
    func listing(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            for i in 0..<5 {
                _ = try await storage.contacts.upsert(a, Self.changes("+1919555010\(i)") {
                    $0.tags = i % 2 == 0 ? ["even"] : ["odd"]; $0.state = .set(i < 2 ? "NC" : "SC"); $0.email = i == 0 ? .set("x@y.org") : .unchanged
                })
            }
            _ = try await storage.contacts.upsert(b, Self.changes("+19195550100") { $0.tags = ["even"]; $0.state = .set("NC") })
            var q = ContactListQuery()
            q.limit = 2
            q.includeTotal = true
            var seen: [String] = []
            for _ in PageWalk() {
                let (page, total) = try await storage.contacts.list(a, q)
                #expect(total == 5)
                seen += page.map(\.id)
                guard page.count == q.limit, let last = page.last else { break }
                q.after = .init(sortValue: last.updatedAt, key: last.key)
            }
            #expect(seen.count == 5 && Set(seen).count == 5)
            func count(_ configure: (inout ContactListQuery) -> Void) async throws -> Int64 {
                var q = ContactListQuery()
                configure(&q)
                return try await storage.contacts.count(a, q)
            }
            #expect(try await count { $0.tags = ["even"] } == 3)
            #expect(try await count { $0.tags = ["even", "odd"] } == 5)
            #expect(try await count { $0.tags = ["even", "odd"]; $0.tagsMatchAll = true } == 0)
            #expect(try await count { $0.states = ["nc"] } == 2)
            #expect(try await count { $0.hasEmail = true } == 1)
            #expect(try await count { $0.search = "5550103" } == 1)
            var filter = ContactFilter()
            filter.tags = ["even"]
            filter.states = ["SC"]
            #expect(try await count { $0.filter = ContactFilterSQL.compile(filter, dialect: storage.db.dialect) } == 2)
            #expect(try await storage.contacts.count(b, ContactListQuery()) == 1)
        }
    }

    /// Twenty contacts with known names, tags and states, plus specials, and an organization B
    /// contact that matches every query. On SQLite this leaves the search index in every state
    /// it can be in: indexed contacts, a renamed and a deleted one (stale entries), a rowid
    /// reused after the newest contact was deleted, and a contact added after the last sync.
    static func seedListing(_ storage: Storage, _ a: OrganizationScope, _ b: OrganizationScope) async throws -> [String: Int] {
        var index: [String: Int] = [:]
        let first = ["Anna", "Boris", "Carla", "Dmitri", "Eve"], last = ["Smith", "Jones", "Brown", "O\"Neil"], states = ["NC", "SC", "VA"]
        for i in 0..<20 {
            let (c, _) = try await storage.contacts.upsert(a, Self.changes("+1919555\(2000 + i)") {
                $0.firstName = .set(first[i % 5]); $0.lastName = .set(last[i % 4]); $0.state = .set(states[i % 3])
                if i % 3 == 0 { $0.email = .set("user\(i)@example.com") }
                $0.tags = (i % 2 == 0 ? ["even"] : []) + (i % 3 == 0 ? ["three"] : []) + (i % 5 == 0 ? ["five"] : [])
            })
            index[c.id] = i
        }
        let (tmp, _) = try await storage.contacts.upsert(a, Self.changes("+19195552102") { $0.firstName = .set("Tmp") })
        try await storage.contacts.syncSearchIndex()
        try await storage.contacts.delete(a, id: tmp.id)
        let (zoe, _) = try await storage.contacts.upsert(a, Self.changes("+19195552101") { $0.firstName = .set("Zoë") })
        index[zoe.id] = 101
        let renamed = try #require(index.first { $0.value == 1 }?.key)
        _ = try await storage.contacts.update(a, id: renamed, Self.changes("+19195552001") { $0.firstName = .set("Quentin") })
        try await storage.contacts.delete(a, id: try #require(index.first { $0.value == 2 }?.key))
        let (pct, _) = try await storage.contacts.upsert(a, Self.changes("+19195552100") { $0.firstName = .set("100%_off") })
        index[pct.id] = 100
        _ = try await storage.contacts.upsert(b, Self.changes("+19195552003") {
            $0.firstName = .set("Anna"); $0.lastName = .set("Smith"); $0.email = .set("b@example.com"); $0.state = .set("NC")
            $0.tags = ["even", "three", "five"]
        })
        return index
    }

    @Test("contact listing: search semantics, tags AND/OR and segments give the same pages and totals under every page plan", arguments: TestEngine.available)
    func listingPlans(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            let index = try await Self.seedListing(storage, a, b)
            func query(_ configure: (inout ContactListQuery) -> Void) -> ContactListQuery {
                var q = ContactListQuery()
                configure(&q)
                return q
            }
            var segment = ContactFilter()
            segment.tags = ["even"]
            segment.states = ["NC"]
            var allTags = ContactFilter()
            allTags.tags = ["three", "even"]
            allTags.tagsLogic = .and
            allTags.excludeTags = ["five"]
            let ids = Dictionary(uniqueKeysWithValues: index.map { ($0.value, $0.key) })
            let list = try await storage.lists.create(a, name: "Plans", description: nil)
            _ = try await storage.lists.add(a, id: list.id, contactIds: [0, 3, 5, 6, 9].compactMap { ids[$0] }, phones: [])
            var inList = ContactFilter()
            inList.listIds = [try #require(UUID(uuidString: list.id))]
            inList.tags = ["three"]
            var inVirginia = ContactFilter()
            inVirginia.states = ["VA"]
            var anyButExcluded = ContactFilter()
            anyButExcluded.tags = ["three", "five"]
            anyButExcluded.excludeTags = ["five"]
            var contradiction = ContactFilter()
            contradiction.tags = ["even"]
            contradiction.excludeTags = ["even", "five"]
            var allButExcluded = ContactFilter()
            allButExcluded.tags = ["even", "three"]
            allButExcluded.tagsLogic = .and
            allButExcluded.excludeTags = ["three"]
            var everyPart = inList
            everyPart.tags = ["even"]
            everyPart.excludeTags = ["five"]
            everyPart.states = ["NC"]
            var statesAndTags = ContactFilter()
            statesAndTags.states = ["VA"]
            statesAndTags.tags = ["even", "three"]
            statesAndTags.excludeTags = ["five"]
            let cases: [(String, ContactListQuery, Set<Int>)] = [
                ("substring", query { $0.search = "anna" }, [0, 5, 10, 15]),
                ("inner substring", query { $0.search = "nna" }, [0, 5, 10, 15]),
                ("case-insensitive last name", query { $0.search = "SMITH" }, [0, 4, 8, 12, 16]),
                ("email", query { $0.search = "example.com" }, [0, 3, 6, 9, 12, 15, 18]),
                ("phone", query { $0.search = "5552003" }, [3]),
                ("formatted phone digits", query { $0.search = "(919) 555-2003" }, [3]),
                ("first and last name prefixes", query { $0.search = "Anna Smi" }, [0]),
                ("two characters", query { $0.search = "An" }, [0, 5, 10, 15]),
                ("one character", query { $0.search = "%" }, [100]),
                ("double quote", query { $0.search = "O\"Ne" }, [3, 7, 11, 15, 19]),
                ("LIKE wildcards are literal", query { $0.search = "0%_" }, [100]),
                ("non-ASCII", query { $0.search = "zoë" }, [101]),
                ("renamed contact", query { $0.search = "quent" }, [1]),
                ("old name gone", query { $0.search = "boris" }, [6, 11, 16]),
                ("deleted contact gone", query { $0.search = "carla" }, [7, 12, 17]),
                ("no match", query { $0.search = "xyz" }, []),
                ("deleted newest contact gone", query { $0.search = "tmp" }, []),
                ("tags AND", query { $0.tags = ["even", "three"]; $0.tagsMatchAll = true }, [0, 6, 12, 18]),
                ("three tags AND", query { $0.tags = ["five", "even", "three"]; $0.tagsMatchAll = true }, [0]),
                ("tags OR", query { $0.tags = ["three", "five"] }, [0, 3, 5, 6, 9, 10, 12, 15, 18]),
                ("search and tag", query { $0.search = "anna"; $0.tags = ["even"] }, [0, 10]),
                ("segment", query { $0.filter = ContactFilterSQL.compile(segment, dialect: storage.db.dialect) }, [0, 6, 12, 18]),
                ("segment read from its tags", query { $0.apply(segment, dialect: storage.db.dialect) }, [0, 6, 12, 18]),
                ("segment with all tags and an excluded one", query { $0.apply(allTags, dialect: storage.db.dialect) }, [6, 12, 18]),
                ("segment read from its list", query { $0.apply(inList, dialect: storage.db.dialect) }, [0, 3, 6, 9]),
                ("segment read from its states", query { $0.apply(inVirginia, dialect: storage.db.dialect) }, [5, 8, 11, 14, 17]),
                ("tag and state", query { $0.tags = ["five"]; $0.states = ["nc"] }, [0, 15]),
                ("segment with an any-of tag also excluded", query { $0.apply(anyButExcluded, dialect: storage.db.dialect) }, [3, 6, 9, 12, 18]),
                ("segment excluding its only tag", query { $0.apply(contradiction, dialect: storage.db.dialect) }, []),
                ("segment requiring an excluded tag", query { $0.apply(allButExcluded, dialect: storage.db.dialect) }, []),
                ("segment of list, tag, excluded tag and state", query { $0.apply(everyPart, dialect: storage.db.dialect) }, [6]),
                ("segment of states narrowed by tags", query { $0.apply(statesAndTags, dialect: storage.db.dialect) }, [8, 14]),
            ]
            for (synced, (name, base, expected)) in [false, true].flatMap({ synced in cases.map { (synced, $0) } }) {
                if synced && name == cases[0].0 { try await storage.contacts.syncSearchIndex() }
                // walkBudget 1_000 reads everything in one walk; small budgets force the
                // candidate-driven and continued-walk steps on SQLite.
                for budget in [1, 2, 3, 7, 1_000] {
                    var q = base
                    q.walkBudget = budget
                    q.limit = 2
                    q.includeTotal = true
                    var seen: [Contact] = []
                    for _ in PageWalk() {
                        let (page, total) = try await storage.contacts.list(a, q)
                        #expect(total == Int64(expected.count), "\(name) budget \(budget) synced \(synced)")
                        seen += page
                        guard page.count == q.limit, let last = page.last else { break }
                        q.after = .init(sortValue: last.updatedAt, key: last.key)
                    }
                    #expect(Set(seen.compactMap { index[$0.id] }) == expected && seen.count == expected.count, "\(name) budget \(budget) synced \(synced)")
                    let order = seen.map { ($0.updatedAt, $0.key) }
                    #expect(zip(order, order.dropFirst()).allSatisfy { $0 > $1 }, "\(name) budget \(budget) synced \(synced): not newest first")
                    #expect(try await storage.contacts.count(a, q) == Int64(expected.count), "\(name) budget \(budget) synced \(synced)")
                }
            }
        }
    }

    @Test("lists and members are scoped to their organization", arguments: TestEngine.available)
    func lists(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            let lists = storage.lists
            let l = try await lists.create(a, name: "L", description: "d")
            #expect(l.name == "L" && l.description == "d" && l.contactCount == 0)
            let (c1, _) = try await storage.contacts.upsert(a, Self.changes("+19195550101"))
            let (c2, _) = try await storage.contacts.upsert(a, Self.changes("+19195550102"))
            let (cb, _) = try await storage.contacts.upsert(b, Self.changes("+19195550103"))
            let added = try await lists.add(a, id: l.id, contactIds: [c1.id, cb.id, "junk"], phones: ["+19195550102", "+19195550103"], invalidInput: ["bad"])
            #expect(added.added == 2 && added.alreadyPresent == 0)
            #expect(added.invalid == ["bad", cb.id, "junk", "+19195550103"])
            let again = try await lists.add(a, id: l.id, contactIds: [c2.id], phones: [])
            #expect(again.added == 0 && again.alreadyPresent == 1)
            #expect(try await lists.get(a, id: l.id).contactCount == 2)
            // Organization B cannot touch A's list.
            await #expect(throws: StoreError.notFound("list")) { try await lists.get(b, id: l.id) }
            await #expect(throws: StoreError.notFound("list")) { try await lists.update(b, id: l.id, name: "x", description: .unchanged) }
            await #expect(throws: StoreError.notFound("list")) { try await lists.add(b, id: l.id, contactIds: [cb.id], phones: []) }
            await #expect(throws: StoreError.notFound("list")) { try await lists.remove(b, id: l.id, contactIds: [c1.id]) }
            await #expect(throws: StoreError.notFound("list")) { try await lists.delete(b, id: l.id) }
            #expect(try await lists.keys(b, ids: [l.id]).found.isEmpty)
            #expect(try await lists.keys(a, ids: [l.id, "x"]).missing == ["x"])
            #expect(try await lists.all(b, before: nil, limit: 10).isEmpty)
            // Removing: a contact of another organization is never removed.
            #expect(try await lists.remove(a, id: l.id, contactIds: [cb.id, c1.id, "junk"]) == 1)
            let u = try await lists.update(a, id: l.id, name: "L2", description: .clear)
            #expect(u.name == "L2" && u.description == nil && u.contactCount == 1)
            let l2 = try await lists.create(a, name: "Second", description: nil)
            let all = try await lists.all(a, before: nil, limit: 1)
            #expect(all.map(\.id) == [l2.id])
            #expect(try await lists.all(a, before: all[0].key, limit: 5).map(\.id) == [l.id])
            try await lists.delete(a, id: l.id)
            await #expect(throws: StoreError.notFound("list")) { try await lists.get(a, id: l.id) }
            #expect(try await storage.contacts.get(a, id: c2.id).id == c2.id)
        }
    }

    @Test("segments: create, update, delete, in-use refusal, scoped", arguments: TestEngine.available)
    func segments(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            let segs = storage.segments
            let s = try await segs.create(a, name: "S", filterJSON: #"{"tags":["vip"]}"#)
            #expect(try await segs.get(a, id: s.id).filterJSON == #"{"tags":["vip"]}"#)
            await #expect(throws: StoreError.notFound("segment")) { try await segs.get(b, id: s.id) }
            await #expect(throws: StoreError.notFound("segment")) { try await segs.update(b, id: s.id, name: "x", filterJSON: nil) }
            await #expect(throws: StoreError.notFound("segment")) { try await segs.delete(b, id: s.id) }
            #expect(try await segs.all(b, before: nil, limit: 10).isEmpty)
            let u = try await segs.update(a, id: s.id, name: nil, filterJSON: "{}")
            #expect(u.name == "S" && u.filterJSON == "{}")
            await #expect(throws: StoreError.invalidState("a scheduled or running campaign uses this segment")) {
                try await segs.delete(a, id: s.id, inUse: { _, key in key == s.key })
            }
            #expect(try await segs.get(a, id: s.id).id == s.id)
            try await segs.delete(a, id: s.id)
            #expect(try await segs.all(a, before: nil, limit: 10).isEmpty)
        }
    }

    @Test("senders: create, default handling, unique address, update, delete, scoped", arguments: TestEngine.available)
    func senders(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            let senders = storage.senders
            func input(_ address: String, _ channel: Channel = .text, isDefault: Bool = false) -> SenderStore.Input {
                SenderStore.Input(channel: channel, address: address, type: .longCode, label: nil, provider: "simulator", isDefault: isDefault, maxPerSecond: 3.5)
            }
            let s1 = try await senders.create(a, input("+19195550101", isDefault: true))
            #expect(s1.isDefault && s1.maxPerSecond == 3.5)
            #expect(try await storage.organizations.get(a).defaultSenderId == s1.id)
            let s2 = try await senders.create(a, input("+19195550102", isDefault: true))
            #expect(try await senders.get(a, id: s1.id).isDefault == false)
            #expect(try await storage.organizations.get(a).defaultSenderId == s2.id)
            #expect(try await senders.defaultSender(a, channel: .text)?.id == s2.id)
            #expect(try await senders.defaultSender(a, channel: .email) == nil)
            await #expect(throws: StoreError.conflict(field: "address", message: "a sender with this channel and address already exists")) {
                try await senders.create(a, input("+19195550101"))
            }
            _ = try await senders.create(b, input("+19195550101"))
            _ = try await senders.create(a, input("+19195550101", .whatsapp))
            await #expect(throws: StoreError.self) {
                var ch = SenderStore.Changes()
                ch.address = "+19195550101"
                return try await senders.update(a, id: s2.id, ch)
            }
            await #expect(throws: StoreError.notFound("sender")) { try await senders.get(b, id: s1.id) }
            await #expect(throws: StoreError.notFound("sender")) { try await senders.update(b, id: s1.id, SenderStore.Changes()) }
            await #expect(throws: StoreError.notFound("sender")) { try await senders.delete(b, id: s2.id) }
            #expect(try await storage.organizations.get(a).defaultSenderId == s2.id)
            var ch = SenderStore.Changes()
            ch.isDefault = true
            ch.label = .set("main")
            let u = try await senders.update(a, id: s1.id, ch)
            #expect(u.isDefault && u.label == "main")
            #expect(try await storage.organizations.get(a).defaultSenderId == s1.id)
            #expect(try await senders.all(a, before: nil, limit: 10).count == 3)
            await #expect(throws: ValidationError.self) {
                var off = SenderStore.Changes()
                off.isDefault = false
                return try await senders.update(a, id: s1.id, off)
            }
            // Deleting the default promotes the channel's oldest other sender; the last one leaves none.
            try await senders.delete(a, id: s1.id)
            #expect(try await storage.organizations.get(a).defaultSenderId == s2.id)
            #expect(try await senders.get(a, id: s2.id).isDefault)
            try await senders.delete(a, id: s2.id)
            #expect(try await storage.organizations.get(a).defaultSenderId == nil)
            #expect(try await senders.all(b, before: nil, limit: 10).count == 1)
        }
    }

    @Test("idempotency: claim, in progress, replay, mismatch, release, per API key", arguments: TestEngine.available)
    func idempotency(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            let keyA = try await storage.organizations.createKey(a, name: "a", role: .write).0
            let keyB = try await storage.organizations.createKey(b, name: "b", role: .write).0
            let idem = storage.idempotency
            guard case .claimed = try await idem.claim(a, apiKey: keyA.key, key: "k", requestHash: "h1") else { Issue.record("not claimed"); return }
            guard case .inProgress = try await idem.claim(a, apiKey: keyA.key, key: "k", requestHash: "h1") else { Issue.record("not in progress"); return }
            guard case .mismatch = try await idem.claim(a, apiKey: keyA.key, key: "k", requestHash: "h2") else { Issue.record("not a mismatch"); return }
            // Another API key has its own namespace.
            guard case .claimed = try await idem.claim(b, apiKey: keyB.key, key: "k", requestHash: "h2") else { Issue.record("B not claimed"); return }
            try await idem.complete(apiKey: keyA.key, key: "k", status: 201, contentType: "application/json", body: Array(#"{"x":1}"#.utf8))
            guard case .replay(let status, let type, let body) = try await idem.claim(a, apiKey: keyA.key, key: "k", requestHash: "h1") else {
                Issue.record("not replayed"); return
            }
            #expect(status == 201 && type == "application/json" && body == Array(#"{"x":1}"#.utf8))
            guard case .mismatch = try await idem.claim(a, apiKey: keyA.key, key: "k", requestHash: "h2") else { Issue.record("not a mismatch"); return }
            // Release frees only an unfinished claim.
            try await idem.release(apiKey: keyA.key, key: "k")
            guard case .replay = try await idem.claim(a, apiKey: keyA.key, key: "k", requestHash: "h1") else { Issue.record("released a finished claim"); return }
            guard case .claimed = try await idem.claim(a, apiKey: keyA.key, key: "r", requestHash: "h") else { Issue.record("r not claimed"); return }
            try await idem.release(apiKey: keyA.key, key: "r")
            guard case .claimed = try await idem.claim(a, apiKey: keyA.key, key: "r", requestHash: "other") else { Issue.record("r not claimable again"); return }
        }
    }

    @Test("imports: created, merged and duplicate rows within one import; errors; scoped", arguments: TestEngine.available)
    func imports(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            let (existing, _) = try await storage.contacts.upsert(a, Self.changes("+19195550100") { $0.firstName = .set("Old") })
            let list = try await storage.lists.create(a, name: "Imported", description: nil)
            let job = try await storage.imports.create(a, options: .init(tags: ["t"], listId: list.id, defaultCountry: "US"), filePath: "/nonexistent/x.csv")
            #expect(job.status == .processing && job.totalRows == 0)
            await #expect(throws: StoreError.notFound("import")) { try await storage.imports.get(b, id: job.id) }
            let pending = try #require(try await storage.imports.pending().first { $0.id == job.id })
            #expect(pending.scope == a && pending.options.listId == list.id && pending.options.tags == ["t"])
            #expect(try await storage.imports.lease(pending, owner: "one", until: Clock.nowMillis() + 60_000))
            #expect(try await storage.imports.lease(pending, owner: "two", until: Clock.nowMillis() + 60_000) == false)
            #expect(try await storage.imports.lease(pending, owner: "one", until: Clock.nowMillis() + 60_000))
            try await storage.imports.restart(pending)
            let listKey = try #require(try await storage.imports.listKey(a, id: list.id))
            #expect(try await storage.imports.listKey(b, id: list.id) == nil)
            func row(_ n: Int64, _ phone: String, _ name: String) -> ImportStore.Row {
                ImportStore.Row(rowNumber: n, changes: Self.changes(phone) { $0.firstName = .set(name); $0.tags = ["t"] })
            }
            var progress = ImportStore.Progress()
            progress.totalRows = 3
            progress.invalid = 1
            progress = try await storage.imports.writeBatch(pending, listKey: listKey, rows: [row(2, "+19195550100", "A"), row(3, "+19195550101", "B")],
                                                            errors: [.init(row: 4, field: "phone", message: "bad")], progress: progress)
            #expect(progress.created == 1 && progress.merged == 1 && progress.duplicateRows == 0)
            progress.totalRows = 5
            progress = try await storage.imports.writeBatch(pending, listKey: listKey, rows: [row(5, "+19195550101", "B2"), row(6, "+19195550100", "A2")],
                                                            errors: [], progress: progress)
            #expect(progress.created == 1 && progress.merged == 1 && progress.duplicateRows == 2)
            try await storage.imports.finish(pending, failure: nil)
            let done = try await storage.imports.get(a, id: job.id)
            #expect(done.status == .completed && done.completedAt != nil && done.failureReason == nil)
            #expect(done.totalRows == 5 && done.created == 1 && done.merged == 1 && done.duplicateRows == 2 && done.invalid == 1)
            #expect(done.errors == [.init(row: 4, field: "phone", message: "bad")])
            #expect(try await storage.contacts.get(a, id: existing.id).firstName == "A2")
            #expect(try await storage.lists.get(a, id: list.id).contactCount == 2)
            #expect(try await storage.imports.pending().contains { $0.id == job.id } == false)
            // A restarted job counts from zero again.
            let failed = try await storage.imports.create(b, options: .init(tags: [], listId: nil, defaultCountry: "GB"), filePath: "/nonexistent/y.csv")
            let p2 = try #require(try await storage.imports.pending().first { $0.id == failed.id })
            try await storage.imports.finish(p2, failure: "header broken")
            let f = try await storage.imports.get(b, id: failed.id)
            #expect(f.status == .failed && f.failureReason == "header broken")
        }
    }

    @Test("imports: every row error is stored and paged in row order; a restarted job starts with none", arguments: TestEngine.available)
    func importErrors(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let (a, b) = try await Self.twoOrgs(storage)
            let job = try await storage.imports.create(a, options: .init(tags: [], listId: nil, defaultCountry: "US"), filePath: "/nonexistent/e.csv")
            let pending = try #require(try await storage.imports.pending().first { $0.id == job.id })
            // 1,200 errors in one batch (chunks of 512, 512, 128, 32 and 16), given out of order,
            // a repeated one among them; then 300 more in a second batch.
            let firstBatch = (2...1201).reversed().map { ImportJob.RowError(row: Int64($0), field: "phone", message: "bad \($0)") }
                + [ImportJob.RowError(row: 7, field: "phone", message: "bad 7")]
            let secondBatch = (1202...1351).flatMap { [ImportJob.RowError(row: Int64($0), field: "zip", message: "z"), .init(row: Int64($0), field: "email", message: "e")] }
            var progress = ImportStore.Progress()
            progress = try await storage.imports.writeBatch(pending, listKey: nil, rows: [], errors: firstBatch, progress: progress)
            progress = try await storage.imports.writeBatch(pending, listKey: nil, rows: [], errors: secondBatch, progress: progress)
            let expected = (2...1201).map { ImportJob.RowError(row: Int64($0), field: "phone", message: "bad \($0)") }
                + (1202...1351).flatMap { [ImportJob.RowError(row: Int64($0), field: "email", message: "e"), .init(row: Int64($0), field: "zip", message: "z")] }
            #expect(try await storage.imports.get(a, id: job.id).errors == Array(expected.prefix(ImportStore.embeddedErrors)))
            var walked: [ImportJob.RowError] = []
            var after: (row: Int64, field: String)?
            for _ in PageWalk() {
                let (page, total) = try await storage.imports.errors(a, id: job.id, after: after, limit: 333, includeTotal: true)
                #expect(total == Int64(expected.count))
                walked += page
                guard page.count == 333, let last = page.last else { break }
                after = (last.row, last.field)
            }
            #expect(walked == expected)
            #expect(try await storage.imports.errors(a, id: job.id, after: (1202, "email"), limit: 2).errors
                    == [.init(row: 1202, field: "zip", message: "z"), .init(row: 1203, field: "email", message: "e")])
            await #expect(throws: StoreError.notFound("import")) { try await storage.imports.errors(b, id: job.id, after: nil, limit: 10) }
            // A job restarted after a crash reads its file from the top: its old errors are gone.
            try await storage.imports.restart(pending)
            #expect(try await storage.imports.errors(a, id: job.id, after: nil, limit: 10, includeTotal: true).total == 0)
            #expect(try await storage.imports.get(a, id: job.id).errors.isEmpty)
        }
    }

    @Test("bootstrap creates exactly one organization, key and default sender", arguments: TestEngine.available)
    func bootstrap(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let boot = try #require(try await storage.bootstrapIfEmpty(apiKey: nil))
            #expect(boot.apiKey.range(of: "^hk_[0-9A-Za-z]{32,}$", options: .regularExpression) != nil)
            #expect(boot.organization.billingMode == .unlimited && boot.organization.defaultCountry == "US")
            #expect(try await storage.organizations.count() == 1)
            let scope = OrganizationScope(key: boot.organization.key, id: boot.organization.id)
            #expect(try await storage.organizations.listKeys(scope).map(\.role) == [.admin])
            #expect(try await storage.senders.all(scope, before: nil, limit: 10).map(\.address) == ["+12025550100"])
            #expect(try await storage.bootstrapIfEmpty(apiKey: "hk_other") == nil)
            #expect(try await storage.organizations.count() == 1)
        }
    }
}
