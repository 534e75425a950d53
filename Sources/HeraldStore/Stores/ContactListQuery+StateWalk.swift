import Foundation
import HeraldCore

/// Step 2 of a SQLite page by the filter's states.
///
/// The state index `contacts_org_state (org_id, UPPER(state), updated_at)` holds each state's
/// contacts newest first, with the contact id in every entry. A filter restricted to a few
/// states can therefore walk each state in page order, checking its tag and list parts by
/// index probes on the entry's id and reading a row only once it matches (SQLite's deferred
/// seek), and stop at the page's size. The pages of all the states, merged, are the page.
/// This beats both the organization-wide walk (which reads every walked row to check its
/// state) and the candidate plans (which read or sort every candidate) when the other parts
/// are common within those states: "loyalty" without "customer" in MA or FL on 1M contacts
/// takes 8–15 ms per state against 45–60 ms.
///
/// Each state is walked through a window of at most `stateWindow` entries; when a window
/// ends before the page is full the plan gives up (its result could miss rows beyond the
/// window) and `page` goes on with the other plans. It is only tried when the density the
/// first step saw, scaled to the states' share of the organization, says the windows should
/// fill the page.
extension ContactListQuery {
    /// Entries of a state walked at most, per state.
    var stateWindow: Int { walkBudget * 2 }

    /// At most this many states are walked one by one.
    static let stateWalkMaxStates = 8

    /// The rest of the page (`self` carries its cursor and limit) read state by state, or nil
    /// when this plan does not apply or a window ran out.
    func stateWalk(_ c: any SQLConnection, scope: OrganizationScope, walked: Int, found: Int) async throws -> [SQLRow]? {
        guard sort == .updatedAt else { return nil }
        let states = Array(Set(candidateParts.states.map { $0.uppercased() })).sorted()
        guard !states.isEmpty, states.count <= Self.stateWalkMaxStates, walked > 0 else { return nil }
        let arm = Self.statesArm(states, scope: scope)
        let inStates = try await Self.count(arm.key, scope: scope, limit: Self.candidateCap, c) { try await Self.countRows(arm.sql, arm.binds, limit: $0, c) }
        guard inStates > 0 else { return [] }
        let everyone = try await Self.count(.everyContact, scope: scope, limit: Self.candidateCap * 50, c) {
            try await Self.countRows("SELECT 1 FROM contacts WHERE org_id = ?", [.int(scope.key)], limit: $0, c)
        }
        // Matches per walked row, among the states' contacts only.
        let density = max(Double(found), 0.5) / Double(walked) * Double(max(everyone, inStates)) / Double(inStates)
        guard Double(limit) / density <= Double(stateWindow) else { return nil }
        var rows: [SQLRow] = []
        for state in states {
            let window = stateEdgeSQL(scope: scope, state: state)
            let edge = try await c.queryOne(window.sql, window.binds).map { Position(sortValue: $0.int(0), key: $0.int(1)) }
            let page = stateWalkSQL(scope: scope, state: state, through: edge)
            let got = try await c.query(page.sql, page.binds)
            if got.count < limit, edge != nil { return nil }
            rows += got
        }
        let keyed = rows.map { row -> (row: SQLRow, position: (Int64, Int64)) in
            let contact = ContactStore.contact(row)
            return (row, (contact.updatedAt, contact.key))
        }
        return keyed.sorted { $0.position > $1.position }.prefix(limit).map(\.row)
    }

    /// The last entry of `state`'s window after the cursor, when the window is full.
    func stateEdgeSQL(scope: OrganizationScope, state: String) -> SQLFragment {
        var binds: [SQLValue] = [.int(scope.key), .text(state)]
        var cursor = ""
        if let after {
            cursor = " AND (c.updated_at, c.id) < (?, ?)"
            binds += [.int(after.sortValue), .int(after.key)]
        }
        return SQLFragment("""
            SELECT c.updated_at, c.id FROM contacts c WHERE c.org_id = ? AND UPPER(c.state) = ?\(cursor) \
            ORDER BY c.updated_at DESC, c.id DESC LIMIT 1 OFFSET ?
            """, binds + [.int(Int64(stateWindow - 1))])
    }

    /// The page's matches in `state` after the cursor, down to `edge` (inclusive) when given.
    func stateWalkSQL(scope: OrganizationScope, state: String, through edge: Position?) -> SQLFragment {
        var parts = [SQLFragment("UPPER(c.state) = ?", [.text(state)]), whereClause(scope: scope, dialect: .sqlite)]
        if let after { parts.append(SQLFragment("(c.updated_at, c.id) < (?, ?)", [.int(after.sortValue), .int(after.key)])) }
        if let edge { parts.append(SQLFragment("(c.updated_at, c.id) >= (?, ?)", [.int(edge.sortValue), .int(edge.key)])) }
        let filter = SQLFragment.join(parts, with: "AND")
        return SQLFragment("SELECT \(ContactStore.columns) FROM contacts c WHERE \(filter.sql) ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
                           filter.binds + [.int(Int64(limit))])
    }
}
