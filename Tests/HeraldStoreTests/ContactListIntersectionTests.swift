import Foundation
import HeraldCore
@testable import HeraldStore
import HeraldTestSupport
import Testing

/// The SQLite plan that intersects a filter's positive parts as sorted id streams
/// (`ContactListQuery.intersectionDriver`): its candidates are exactly the filter's matches
/// when every part is a stream or an exclusion, never another organization's contacts, and
/// SQLite runs it as a merge.
@Suite("Contact list intersection plan (SQLite)", .timeLimit(.minutes(10)))
struct ContactListIntersectionTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var filter: @Sendable (UUID, UUID) -> ContactFilter
        var expected: Set<Int>
    }

    static let cases: [Case] = [
        Case(description: "all of two tags", filter: { _, _ in
            var f = ContactFilter(); f.tags = ["even", "three"]; f.tagsLogic = .and; return f
        }, expected: [0, 6, 12, 18]),
        Case(description: "a tag and a state", filter: { _, _ in
            var f = ContactFilter(); f.tags = ["even"]; f.states = ["nc"]; return f
        }, expected: [0, 6, 12, 18]),
        Case(description: "a list and a tag", filter: { list, _ in
            var f = ContactFilter(); f.listIds = [list]; f.tags = ["three"]; return f
        }, expected: [0, 3, 6, 9]),
        Case(description: "two lists, any of two tags and an excluded tag", filter: { list, other in
            var f = ContactFilter(); f.listIds = [list, other]; f.tags = ["three", "five"]; f.excludeTags = ["even"]; return f
        }, expected: [3, 5, 9, 15]),
        Case(description: "any of two tags and a state", filter: { _, _ in
            var f = ContactFilter(); f.tags = ["three", "five"]; f.states = ["SC"]; return f
        }, expected: [10]),
        Case(description: "parts that never meet", filter: { _, _ in
            var f = ContactFilter(); f.tags = ["three"]; f.states = ["VA"]; f.excludeTags = ["five"]; return f
        }, expected: []),
    ]

    @Test("candidates equal the matches", arguments: cases)
    func candidates(_ testCase: Case) async throws {
        try await withTestStorage(.sqlite) { storage in
            let (a, b) = try await StoreConformanceTests.twoOrgs(storage)
            let index = try await StoreConformanceTests.seedListing(storage, a, b)
            let ids = Dictionary(uniqueKeysWithValues: index.map { ($0.value, $0.key) })
            let list = try await storage.lists.create(a, name: "L", description: nil)
            _ = try await storage.lists.add(a, id: list.id, contactIds: [0, 3, 5, 6, 9].compactMap { ids[$0] }, phones: [])
            let other = try await storage.lists.create(a, name: "M", description: nil)
            _ = try await storage.lists.add(a, id: other.id, contactIds: [9, 15, 16].compactMap { ids[$0] }, phones: [])
            var q = ContactListQuery()
            q.apply(testCase.filter(try #require(UUID(uuidString: list.id)), try #require(UUID(uuidString: other.id))), dialect: .sqlite)
            let (candidates, plan) = try await storage.db.read { c in
                let driver = try #require(try await q.intersectionDriver(c, scope: a, budget: .infinity))
                let rows = try await c.query("SELECT c.uuid FROM contacts c WHERE \(driver.fragment.sql)", driver.fragment.binds)
                let plan = try await c.query("EXPLAIN QUERY PLAN SELECT c.uuid FROM contacts c WHERE \(driver.fragment.sql)", driver.fragment.binds)
                return (rows.map { $0.text(0) }, plan.map { $0.text(3) })
            }
            #expect(Set(candidates.compactMap { index[$0] }) == testCase.expected)
            #expect(candidates.count == testCase.expected.count, "no other organization's contact, no duplicates")
            #expect(plan.contains { $0.contains("MERGE (INTERSECT)") }, "\(plan)")
            // The page and the total give the same answer whatever plan they choose.
            q.includeTotal = true
            q.limit = 2
            var seen: [Contact] = []
            for _ in PageWalk() {
                let (page, total) = try await storage.contacts.list(a, q)
                #expect(total == Int64(testCase.expected.count))
                seen += page
                guard page.count == q.limit, let last = page.last else { break }
                q.after = .init(sortValue: last.updatedAt, key: last.key)
            }
            #expect(Set(seen.compactMap { index[$0.id] }) == testCase.expected && seen.count == testCase.expected.count)
        }
    }

    @Test("a single positive part or a budget too small leaves the choice to the other plans")
    func declines() async throws {
        try await withTestStorage(.sqlite) { storage in
            let (a, b) = try await StoreConformanceTests.twoOrgs(storage)
            _ = try await StoreConformanceTests.seedListing(storage, a, b)
            var single = ContactListQuery()
            var tagOnly = ContactFilter()
            tagOnly.tags = ["even"]
            tagOnly.excludeTags = ["five"]
            single.apply(tagOnly, dialect: .sqlite)
            var pair = ContactListQuery()
            pair.tags = ["even", "three"]
            pair.tagsMatchAll = true
            let chosen = try await storage.db.read { c in
                [try await single.intersectionDriver(c, scope: a, budget: .infinity) != nil,
                 try await pair.intersectionDriver(c, scope: a, budget: 0.5) != nil,
                 try await pair.intersectionDriver(c, scope: a, budget: .infinity) != nil]
            }
            #expect(chosen == [false, false, true])
        }
    }
}
