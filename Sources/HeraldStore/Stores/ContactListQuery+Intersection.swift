import Foundation
import HeraldCore

/// Candidates as the intersection of sorted id streams (SQLite).
///
/// A filter made of several common parts (a tag, two states, a list) can match few contacts.
/// Reading the rarest part's contacts and checking the others one by one costs a B-tree probe
/// or a row read per candidate (~0.6–2 µs); streaming every positive part's ids in id order
/// and merging them costs ~0.15 µs per id for a tag or a single list (their indexes are already
/// in id order) and ~0.4 µs for a part SQLite must sort first (several tags of any-of, several
/// lists, states). SQLite merges the streams itself when a compound `INTERSECT` has an
/// `ORDER BY` (its co-routine merge: `EXPLAIN QUERY PLAN` shows `MERGE (INTERSECT)`), so the
/// whole intersection runs inside one statement. Excluded tags stay index probes on what the
/// merge yields, because an excluded tag is usually a large one.
extension ContactListQuery {
    /// One positive part of the filter as a stream of contact ids (`id`), with its cost per id
    /// in walked rows (a walked row is ~1.5 µs, see `page`).
    struct IntersectionArm {
        var sql: String
        var binds: [SQLValue]
        var weight: Double
        var key: FilterPart

        /// Cost per id of a stream an index yields in id order (~0.1 µs measured on 1M contacts).
        static let ordered = 0.07
        /// Cost per id of a stream SQLite sorts before the merge (~0.3 µs).
        static let sorted = 0.2
    }

    /// The positive parts of `parts` as id streams: each tag of all-of, the tags of any-of, the
    /// lists, the states.
    func intersectionArms(_ parts: CandidateParts, scope: OrganizationScope) -> [IntersectionArm] {
        var arms: [IntersectionArm] = []
        let tags = Array(Set(parts.tags)).sorted()
        if parts.tagsAll || tags.count == 1 {
            for tag in tags {
                arms.append(IntersectionArm(sql: "SELECT contact_id AS id FROM contact_tags WHERE org_id = ? AND tag = ?",
                                            binds: [.int(scope.key), .text(tag)], weight: IntersectionArm.ordered, key: .tags([tag])))
            }
        } else if !tags.isEmpty {
            arms.append(IntersectionArm(sql: "SELECT contact_id AS id FROM contact_tags WHERE org_id = ? AND tag IN (\(SQLFragment.placeholders(tags.count)))",
                                        binds: [.int(scope.key)] + tags.map { .text($0) }, weight: IntersectionArm.sorted, key: .tags(tags)))
        }
        let lists = Array(Set(parts.lists)).sorted { $0.uuidString < $1.uuidString }
        if lists.count == 1 {
            arms.append(IntersectionArm(sql: "SELECT contact_id AS id FROM list_members WHERE list_id = (SELECT id FROM lists WHERE org_id = ? AND uuid = ?)",
                                        binds: [.int(scope.key), .text(lists[0].uuidString.lowercased())], weight: IntersectionArm.ordered, key: .lists(lists)))
        } else if !lists.isEmpty {
            arms.append(IntersectionArm(sql: """
                SELECT contact_id AS id FROM list_members WHERE list_id IN \
                (SELECT id FROM lists WHERE org_id = ? AND uuid IN (\(SQLFragment.placeholders(lists.count))))
                """, binds: [.int(scope.key)] + lists.map { .text($0.uuidString.lowercased()) }, weight: IntersectionArm.sorted, key: .lists(lists)))
        }
        if !parts.states.isEmpty { arms.append(Self.statesArm(parts.states, scope: scope)) }
        return arms
    }

    /// The contacts living in `states` (any case) as a stream.
    static func statesArm(_ states: [String], scope: OrganizationScope) -> IntersectionArm {
        let states = Array(Set(states.map { $0.uppercased() })).sorted()
        return IntersectionArm(sql: "SELECT id FROM contacts WHERE org_id = ? AND UPPER(state) IN (\(SQLFragment.placeholders(states.count)))",
                               binds: [.int(scope.key)] + states.map { .text($0) }, weight: IntersectionArm.sorted, key: .states(states))
    }

    /// The intersection of the filter's positive parts as a driver, when it costs less than
    /// `budget` walked rows; nil when the filter has fewer than two positive parts or the
    /// merge would read too many ids. Each part is counted only as far as the budget allows.
    func intersectionDriver(_ c: any SQLConnection, scope: OrganizationScope, budget: Double) async throws -> Driver? {
        let parts = candidateParts
        let arms = intersectionArms(parts, scope: scope)
        guard arms.count >= 2 else { return nil }
        var cost = 0.0
        var smallest = Int.max
        for arm in arms {
            // How many ids the rest of the budget pays for (any budget: it may be infinite).
            let room = (budget - cost) / arm.weight
            guard room > 0 else { return nil }
            let bound = room < Double(Int32.max) ? Int(room) + 1 : Int(Int32.max)
            // The parts `driver` just counted come back from the recent counts.
            let n = try await Self.count(arm.key, scope: scope, limit: bound, c) { try await Self.countRows(arm.sql, arm.binds, limit: $0, c) }
            cost += Double(n) * arm.weight
            if cost >= budget { return nil }
            smallest = min(smallest, n)
        }
        var sql = "SELECT s.id FROM (\(arms.map(\.sql).joined(separator: " INTERSECT ")) ORDER BY 1) s"
        var binds = arms.flatMap(\.binds)
        if let exclusion = Self.exclusionProbe(parts.excludeTags, id: "s.id") {
            sql += " WHERE \(exclusion.sql)"
            binds += exclusion.binds
        }
        return Driver(fragment: SQLFragment("c.id IN (\(sql))", binds), estimate: smallest,
                      cost: cost + Double(smallest) * IntersectionArm.ordered)
    }

    /// An index-only condition on `id` that no excluded tag is carried (nil without exclusions).
    static func exclusionProbe(_ excludeTags: [String], id: String) -> SQLFragment? {
        guard !excludeTags.isEmpty else { return nil }
        return SQLFragment("NOT EXISTS (SELECT 1 FROM contact_tags p WHERE p.contact_id = \(id) AND p.tag IN (\(SQLFragment.placeholders(excludeTags.count))))",
                           excludeTags.map { .text($0) })
    }
}
