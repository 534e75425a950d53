import Foundation
import HeraldCore
@testable import HeraldStore
import HeraldTestSupport
import Testing

/// The SQLite page plan that walks each of a filter's states in page order
/// (`ContactListQuery.stateWalk`): with windows that hold every state it returns exactly the
/// page, and with windows too small to be sure it declines instead of returning a partial page.
@Suite("Contact list state walk (SQLite)", .timeLimit(.minutes(10)))
struct ContactListStateWalkTests {
    @Test("pages by state equal the pages of the plain statement, or the plan declines", arguments: [1, 2, 3, 1_000])
    func pages(walkBudget: Int) async throws {
        try await withTestStorage(.sqlite) { storage in
            let (a, b) = try await StoreConformanceTests.twoOrgs(storage)
            let index = try await StoreConformanceTests.seedListing(storage, a, b)
            var filter = ContactFilter()
            filter.tags = ["even"]
            filter.states = ["nc", "SC"]
            var q = ContactListQuery()
            q.apply(filter, dialect: .sqlite)
            q.limit = 3
            var reference = q
            reference.walkBudget = 1_000_000
            var seen: [Int] = []
            var declined = 0
            for _ in PageWalk() {
                let expected = try await storage.contacts.list(a, reference).contacts
                let byStates = try await storage.db.read { c in
                    // found: 1000 of 1 walked row makes the density check always pass.
                    try await q.stateWalk(c, scope: a, walked: 1, found: 1_000)?.map { ContactStore.contact($0).id }
                }
                if let byStates {
                    #expect(byStates == expected.map(\.id), "budget \(walkBudget)")
                } else {
                    declined += 1
                }
                seen += expected.compactMap { index[$0.id] }
                guard expected.count == q.limit, let last = expected.last else { break }
                q.after = .init(sortValue: last.updatedAt, key: last.key)
                reference.after = q.after
            }
            #expect(Set(seen) == [0, 4, 6, 10, 12, 16, 18])
            if walkBudget == 1_000 { #expect(declined == 0, "windows that hold every state never decline") }
        }
    }

    @Test("applies only to the updated-at order and to filters with states")
    func applies() async throws {
        try await withTestStorage(.sqlite) { storage in
            let (a, b) = try await StoreConformanceTests.twoOrgs(storage)
            _ = try await StoreConformanceTests.seedListing(storage, a, b)
            var byCreated = ContactListQuery()
            byCreated.states = ["NC"]
            byCreated.sort = .createdAt
            var noStates = ContactListQuery()
            noStates.tags = ["even"]
            var withStates = ContactListQuery()
            withStates.states = ["NC"]
            let results = try await storage.db.read { c in
                [try await byCreated.stateWalk(c, scope: a, walked: 1, found: 1_000) != nil,
                 try await noStates.stateWalk(c, scope: a, walked: 1, found: 1_000) != nil,
                 try await withStates.stateWalk(c, scope: a, walked: 1, found: 1_000) != nil]
            }
            #expect(results == [false, false, true])
        }
    }
}
