import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// The grouped audience pages behind the campaign estimate (API.md §5.3): every eligible
/// recipient is counted exactly once across pages, grouped by exactly the values a template
/// reads, and nothing of another organization or an ineligible contact is included.
@Suite("Campaign audience value groups", .timeLimit(.minutes(10)))
struct CampaignAudienceTests {
    struct Person: Sendable {
        var phone: String
        var firstName: String?
        var city: String?
        var tier: String?
        var optedOut = false
        var textable = true
    }

    static let people: [Person] = [
        Person(phone: "+12025550101", firstName: "Ann", city: "Oslo", tier: "gold"),
        Person(phone: "+12025550102", firstName: "Ann", city: "Oslo", tier: "gold"),
        Person(phone: "+12025550103", firstName: "Ann", city: "Rome"),
        Person(phone: "+12025550104", firstName: nil, city: "Oslo", tier: "gold"),
        Person(phone: "+12025550105", firstName: "", city: "Oslo"),
        Person(phone: "+12025550106", firstName: "Bo", city: nil),
        Person(phone: "+12025550107", firstName: "Bo", city: nil, tier: "silver"),
        Person(phone: "+12025550108", firstName: "Ann", city: "Oslo", optedOut: true),
        Person(phone: "+12025550109", firstName: "Ann", city: "Oslo", textable: false),
        Person(phone: "+12025550110", firstName: "Ann", city: "Oslo", tier: "gold"),
    ]

    /// Walks every page and adds the groups up by their values.
    static func collect(_ storage: Storage, _ scope: OrganizationScope, pageRows: Int) async throws -> [String: Int64] {
        var seen: [String: Int64] = [:]
        var after: Int64 = 0
        for _ in 0..<100 {
            let page = try await storage.campaigns.eligibleValueGroups(scope, .filter(ContactFilter()), afterKey: after, pageRows: pageRows,
                                                                       fields: [.firstName, .city], customFields: ["tier"])
            #expect(page.groups.reduce(0) { $0 + $1.count } <= Int64(pageRows))
            for group in page.groups {
                let v = group.values
                seen["\(v.firstName ?? "∅")|\(v.city ?? "∅")|\(v.customValue(named: "tier") ?? "∅")", default: 0] += group.count
                // Values a template does not read are never filled in.
                #expect(v.lastName == nil && v.phone.isEmpty && v.state == nil)
            }
            guard let last = page.lastKey else { return seen }
            #expect(last > after)
            after = last
        }
        Issue.record("more than 100 pages")
        return seen
    }

    @Test("pages cover every eligible recipient once, grouped by the read values only", arguments: TestEngine.available, [1, 2, 3, 50])
    func grouped(engine: TestEngine, pageRows: Int) async throws {
        try await withTestStorage(engine) { storage in
            let a = try await storage.organizations.create(name: "A")
            let b = try await storage.organizations.create(name: "B")
            let scopeA = OrganizationScope(key: a.key, id: a.id)
            let scopeB = OrganizationScope(key: b.key, id: b.id)
            for (i, p) in Self.people.enumerated() {
                var ch = ContactChanges()
                ch.phone = p.phone
                if let f = p.firstName { ch.firstName = .set(f) }
                if let c = p.city { ch.city = .set(c) }
                if let t = p.tier { ch.customFields = ["tier": t] }
                ch.optedOut = p.optedOut ? true : nil
                ch.isTextable = p.textable
                _ = try await storage.contacts.upsert(scopeA, ch)
                // Interleave another organization's contacts with the same values.
                if i % 2 == 0 { _ = try await storage.contacts.upsert(scopeB, ch) }
            }
            let seen = try await Self.collect(storage, scopeA, pageRows: pageRows)
            var expected: [String: Int64] = [:]
            for p in Self.people where !p.optedOut && p.textable {
                expected["\(p.firstName ?? "∅")|\(p.city ?? "∅")|\(p.tier ?? "∅")", default: 0] += 1
            }
            #expect(seen == expected)
            #expect(expected.values.reduce(0, +) == 8)
        }
    }

    @Test("a template without merge fields gets one group per page with its count", arguments: TestEngine.available)
    func noFields(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            let a = try await storage.organizations.create(name: "A")
            let scope = OrganizationScope(key: a.key, id: a.id)
            for p in Self.people {
                var ch = ContactChanges()
                ch.phone = p.phone
                ch.optedOut = p.optedOut ? true : nil
                ch.isTextable = p.textable
                _ = try await storage.contacts.upsert(scope, ch)
            }
            let first = try await storage.campaigns.eligibleValueGroups(scope, .filter(ContactFilter()), afterKey: 0, pageRows: 5, fields: [], customFields: [])
            #expect(first.groups.count == 1 && first.groups.first?.count == 5)
            let lastKey = try #require(first.lastKey)
            let second = try await storage.campaigns.eligibleValueGroups(scope, .filter(ContactFilter()), afterKey: lastKey, pageRows: 5, fields: [], customFields: [])
            #expect(second.groups.map(\.count) == [3])
            #expect(second.lastKey == nil)
        }
    }

    @Test("the SQL A/B bucket equals the Swift one, literal keys included", arguments: TestEngine.available)
    func bucketSQL(engine: TestEngine) async throws {
        try await withTestStorage(engine) { storage in
            for (campaign, contact) in [(Int64(1), Int64(1)), (7, 123_456), (2_147_483_646, 2_147_483_647), (5, 9_000_000_000_000)] {
                let expression = ABTestAssignment.sqlBucketExpression(campaignKey: String(campaign), contactKey: "?")
                let value = try await storage.db.read { c in try await c.queryOne("SELECT \(expression)", [.int(contact)])?.int(0) }
                #expect(value == Int64(ABTestAssignment.bucket(campaignKey: campaign, contactKey: contact)), "campaign \(campaign), contact \(contact)")
            }
        }
    }
}
