import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

@Suite("Storage basics on every engine", .timeLimit(.minutes(10)))
struct StorageSmokeTests {
    @Test("bootstrap creates the default organization, admin key and simulator sender once", arguments: TestEngine.available)
    func bootstrap(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let boot = try #require(try await storage.bootstrapIfEmpty(apiKey: "hk_fixedfixedfixedfixedfixedfixedfixed12"))
            #expect(boot.organization.name == "Default")
            #expect(boot.sender.address == "+12025550100")
            #expect(boot.sender.provider == "simulator")
            let again = try await storage.bootstrapIfEmpty(apiKey: nil)
            #expect(again == nil)
            let key = try #require(try await storage.organizations.authenticate(secret: "hk_fixedfixedfixedfixedfixedfixedfixed12"))
            #expect(key.role == .admin)
            #expect(key.organization.id == boot.organization.id)
            let org = try await storage.organizations.get(key.organization)
            #expect(org.defaultSenderId == boot.sender.id)
        }
    }

    @Test("a chosen bootstrap key must be as strong as a generated one, and nothing is created when it is not",
          arguments: ["abc", "secret12", String(repeating: "a", count: 31), "hk_" + String(repeating: "é", count: 40), "hk_ with spaces in it and long enough to count"])
    func weakBootstrapKey(key: String) async throws {
        try await withTestStorage(.sqlite) { storage in
            let outcome = await #expect(throws: ValidationError.self) { try await storage.bootstrapIfEmpty(apiKey: key) }
            #expect(outcome?.issues.map(\.field) == ["HERALD_BOOTSTRAP_API_KEY"])
            let organizations = try await storage.organizations.count()
            #expect(organizations == 0)
        }
    }

    /// PostgreSQL answers `SUM` of a BIGINT (and any NUMERIC) in its binary NUMERIC format.
    @Test("aggregates and NUMERIC values read back as the same numbers on both engines", arguments: TestEngine.available)
    func numericValues(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let row = try #require(try await storage.db.transaction { c in
                try await c.queryOne("""
                    SELECT SUM(x), CAST(12345678901234 AS NUMERIC), CAST(-1.5 AS NUMERIC), CAST(0 AS NUMERIC), CAST(100000 AS NUMERIC)
                    FROM (SELECT CAST(7 AS BIGINT) AS x UNION ALL SELECT CAST(3 AS BIGINT)) t
                    """, [])
            })
            #expect(row.values == [.int(10), .int(12_345_678_901_234), .double(-1.5), .int(0), .int(100_000)])
        }
    }

    /// Concurrent creates of one new phone: on PostgreSQL the losers of the race used to fail
    /// on the unique (org_id, phone) key (a 500, their tags lost).
    @Test("concurrent upserts of one new phone: one creates, the others merge, nothing is lost", arguments: TestEngine.available)
    func concurrentUpserts(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let org = try await storage.organizations.create(name: "A")
            let scope = OrganizationScope(key: org.key, id: org.id)
            let outcomes = try await withThrowingTaskGroup(of: ContactStore.Outcome.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        var ch = ContactChanges()
                        ch.phone = "+19195552801"
                        ch.tags = ["r\(i)"]
                        return try await storage.contacts.upsert(scope, ch).1
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .created }.count == 1)
            #expect(outcomes.filter { $0 == .merged }.count == 9)
            var ch = ContactChanges()
            ch.phone = "+19195552801"
            let (contact, outcome) = try await storage.contacts.upsert(scope, ch)
            #expect(outcome == .merged)
            #expect(Set(contact.tags) == Set((0..<10).map { "r\($0)" }))
        }
    }

    @Test("contacts merge by phone and filters compile on both engines", arguments: TestEngine.available)
    func mergeAndFilter(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let org = try await storage.organizations.create(name: "A")
            let scope = OrganizationScope(key: org.key, id: org.id)
            var ch = ContactChanges()
            ch.phone = "+19195550143"
            ch.firstName = .set("Ada")
            ch.tags = ["vip"]
            ch.customFields = ["team": "blue", "score": "42"]
            let (c1, o1) = try await storage.contacts.upsert(scope, ch)
            #expect(o1 == .created)
            var ch2 = ContactChanges()
            ch2.phone = "+19195550143"
            ch2.tags = ["donor"]
            ch2.customFields = ["team": "red"]
            let (c2, o2) = try await storage.contacts.upsert(scope, ch2)
            #expect(o2 == .merged)
            #expect(c2.id == c1.id)
            #expect(c2.tags == ["donor", "vip"])
            #expect(c2.customFields == ["team": "red", "score": "42"])
            #expect(c2.firstName == "Ada")

            var filter = ContactFilter()
            filter.conditions = [
                .init(field: .custom("score"), op: .gt, value: .number(40)),
                .init(field: .custom("team"), op: .eq, value: .string("RED")),
            ]
            var q = ContactListQuery()
            q.filter = ContactFilterSQL.compile(filter, dialect: storage.db.dialect)
            #expect(try await storage.contacts.count(scope, q) == 1)
            filter.conditions[0] = .init(field: .custom("score"), op: .gt, value: .number(42))
            q.filter = ContactFilterSQL.compile(filter, dialect: storage.db.dialect)
            #expect(try await storage.contacts.count(scope, q) == 0)
        }
    }
}
