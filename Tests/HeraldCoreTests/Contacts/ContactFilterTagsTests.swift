import HeraldCore
import Testing

@Suite("Contact filter tag algebra", .timeLimit(.minutes(10)))
struct ContactFilterTagsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var tags: [String]
        var logic: ContactFilter.Logic
        var exclude: [String]
        var matchesNothing: Bool
        var effective: [String]
        var testDescription: String { "\(tags) \(logic.rawValue) excluding \(exclude)" }
    }

    @Test("Excluded tags remove any-of tags, and contradictions match nothing", arguments: [
        Case(tags: [], logic: .or, exclude: ["a"], matchesNothing: false, effective: []),
        Case(tags: ["a", "b"], logic: .or, exclude: [], matchesNothing: false, effective: ["a", "b"]),
        Case(tags: ["a", "b"], logic: .or, exclude: ["a"], matchesNothing: false, effective: ["b"]),
        Case(tags: ["a", "b"], logic: .or, exclude: ["b", "a", "c"], matchesNothing: true, effective: []),
        Case(tags: ["a"], logic: .or, exclude: ["a"], matchesNothing: true, effective: []),
        Case(tags: ["a", "b"], logic: .and, exclude: ["c"], matchesNothing: false, effective: ["a", "b"]),
        Case(tags: ["a", "b"], logic: .and, exclude: ["b"], matchesNothing: true, effective: ["a", "b"]),
    ])
    func algebra(_ c: Case) {
        var f = ContactFilter()
        f.tags = c.tags
        f.tagsLogic = c.logic
        f.excludeTags = c.exclude
        #expect(f.tagsMatchNoContact == c.matchesNothing)
        #expect(f.effectiveTags == c.effective)
    }

    /// The rewrite never changes who matches: checked against the definition on every subset
    /// of a small tag universe.
    @Test("Effective tags agree with the definition on every tag set", arguments: [ContactFilter.Logic.or, .and])
    func agreesWithDefinition(logic: ContactFilter.Logic) {
        let universe = ["a", "b", "c"]
        let subsets: [Set<String>] = (0..<8).map { bits in Set(universe.indices.filter { bits & (1 << $0) != 0 }.map { universe[$0] }) }
        for tags in subsets where !tags.isEmpty {
            for exclude in subsets {
                var f = ContactFilter()
                f.tags = tags.sorted()
                f.tagsLogic = logic
                f.excludeTags = exclude.sorted()
                for contact in subsets {
                    let required = logic == .and ? tags.isSubset(of: contact) : !tags.isDisjoint(with: contact)
                    let matches = required && exclude.isDisjoint(with: contact)
                    let effective = Set(f.effectiveTags)
                    let rewritten = !f.tagsMatchNoContact
                        && (logic == .and ? effective.isSubset(of: contact) : !effective.isDisjoint(with: contact))
                        && exclude.isDisjoint(with: contact)
                    #expect(matches == rewritten, "\(tags) \(logic) excluding \(exclude), contact \(contact)")
                }
            }
        }
    }
}
