import Foundation
import HeraldCore
import Testing

@Suite("Contact filter: which parts read the contact's own fields", .timeLimit(.minutes(10)))
struct ContactFilterFieldsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var configure: @Sendable (inout ContactFilter) -> Void
        var readsFields: Bool
    }

    @Test("Tags, excluded tags and lists are memberships; states, zips, cities and conditions are fields", arguments: [
        Case(testDescription: "empty", configure: { _ in }, readsFields: false),
        Case(testDescription: "tags", configure: { $0.tags = ["a", "b"]; $0.tagsLogic = .and }, readsFields: false),
        Case(testDescription: "excluded tags", configure: { $0.excludeTags = ["a"] }, readsFields: false),
        Case(testDescription: "lists", configure: { $0.listIds = [UUID()] }, readsFields: false),
        Case(testDescription: "states", configure: { $0.tags = ["a"]; $0.states = ["NC"] }, readsFields: true),
        Case(testDescription: "zips", configure: { $0.zips = ["27601"] }, readsFields: true),
        Case(testDescription: "cities", configure: { $0.listIds = [UUID()]; $0.cities = ["Raleigh"] }, readsFields: true),
        Case(testDescription: "conditions", configure: {
            $0.conditions = [.init(field: .standard(.firstName), op: .startsWith, value: .string("A"))]
        }, readsFields: true),
    ])
    func readsContactFields(_ c: Case) {
        var f = ContactFilter()
        c.configure(&f)
        #expect(f.readsContactFields == c.readsFields)
    }
}
