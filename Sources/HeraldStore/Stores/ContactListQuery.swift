import Foundation
import HeraldCore

/// The query of `GET /api/contacts` (API.md §3) in store terms.
public struct ContactListQuery: Sendable {
    public enum Sort: String, Sendable, CaseIterable {
        case updatedAt = "updated_at"
        case createdAt = "created_at"
        var column: String { rawValue }
    }

    public struct Position: Sendable, Hashable {
        public var sortValue: Int64
        public var key: Int64
        public init(sortValue: Int64, key: Int64) {
            self.sortValue = sortValue
            self.key = key
        }
    }

    public var search: String?
    public var tags: [String] = []
    public var tagsMatchAll = false
    public var isTextable: Bool?
    public var optedOut: Bool?
    public var hasEmail: Bool?
    public var hasPhone: Bool?
    public var states: [String] = []
    public var zip: String?
    /// A compiled segment or contact filter; when set it replaces the other filters.
    public var filter: SQLFragment?
    /// Where `filter`'s matches can be read from on SQLite when they are rare: every match
    /// carries one of these tags (all of them with `filterTagsMatchAll`), belongs to one of
    /// these lists and lives in one of these states. Set by `apply(_:dialect:)`; only a plan
    /// choice, never a filter.
    public var filterTags: [String] = []
    public var filterTagsMatchAll = false
    public var filterListIds: [UUID] = []
    public var filterStates: [String] = []
    public var sort: Sort = .updatedAt
    public var after: Position?
    public var limit: Int = 50
    public var includeTotal = false
    /// Rows of the organization a filtered page walks in sort order before it estimates whether
    /// reading the filter's candidates instead is cheaper (SQLite; see `page`). A tuning knob:
    /// every value gives the same results.
    public var walkBudget = 4000

    public init() {}

    /// Filters by a segment's or a campaign's contact filter: its SQL, and its tags and lists as
    /// candidate sources for the page and the total (see `driver`).
    public mutating func apply(_ contactFilter: ContactFilter, dialect: SQLDialect) {
        filter = ContactFilterSQL.compile(contactFilter, dialect: dialect)
        filterTags = contactFilter.tags
        filterTagsMatchAll = contactFilter.tagsLogic == .and
        filterListIds = contactFilter.listIds
        filterStates = contactFilter.states
    }

    /// The page statement: matching contacts ordered by (sort, id) descending, after the cursor.
    /// The cursor is a row-value comparison so that it seeks in the (org_id, sort, id) index.
    func pageSQL(scope: OrganizationScope, dialect: SQLDialect) -> SQLFragment {
        let filter = whereClause(scope: scope, dialect: dialect)
        let sort = sort.column
        var page = filter
        if let after {
            page = SQLFragment.join([filter, SQLFragment("(c.\(sort), c.id) < (?, ?)", [.int(after.sortValue), .int(after.key)])], with: "AND")
        }
        return SQLFragment("SELECT \(ContactStore.columns) FROM contacts c WHERE \(page.sql) ORDER BY c.\(sort) DESC, c.id DESC LIMIT ?",
                           page.binds + [.int(Int64(limit))])
    }

    /// The total statement (ignores pagination). A filter made only of tags (any of) is counted
    /// from the `contact_tags (org_id, tag, contact_id)` index alone: tag rows only exist for
    /// contacts of the same organization, so this is exact. `tags` should come rarest first
    /// (see `rarestFirst`): all of them are counted by walking the first one's index entries.
    func countSQL(scope: OrganizationScope, dialect: SQLDialect) -> SQLFragment {
        if filter == nil, !tags.isEmpty, isTagsOnly {
            let tagBinds = tags.map { SQLValue.text($0) }
            if tags.count == 1 {
                return SQLFragment("SELECT COUNT(*) FROM contact_tags t WHERE t.org_id = ? AND t.tag = ?", [.int(scope.key)] + tagBinds)
            }
            if !tagsMatchAll {
                return SQLFragment("SELECT COUNT(DISTINCT t.contact_id) FROM contact_tags t WHERE t.org_id = ? AND t.tag IN (\(SQLFragment.placeholders(tags.count)))",
                                   [.int(scope.key)] + tagBinds)
            }
            // All of the tags: walk the first tag's rows and probe the others by primary key.
            let others = tags.dropFirst().map { _ in "EXISTS (SELECT 1 FROM contact_tags t2 WHERE t2.contact_id = t.contact_id AND t2.tag = ?)" }
            return SQLFragment("SELECT COUNT(*) FROM contact_tags t WHERE t.org_id = ? AND t.tag = ? AND \(others.joined(separator: " AND "))",
                               [.int(scope.key)] + tagBinds)
        }
        if dialect == .sqlite, isUnfiltered {
            // Exact without reading this organization's index entries: every contact (SQLite
            // counts a table from its B-tree pages alone) minus the other organizations'.
            return SQLFragment("""
                SELECT (SELECT COUNT(*) FROM contacts) - (SELECT COUNT(*) FROM contacts WHERE org_id < ?) \
                - (SELECT COUNT(*) FROM contacts WHERE org_id > ?)
                """, [.int(scope.key), .int(scope.key)])
        }
        if dialect == .sqlite, let match = searchMatch {
            // Count the trigram index's candidates, re-checked against the exact filter.
            let filter = whereClause(scope: scope, dialect: dialect, driven: true)
            return SQLFragment("SELECT COUNT(*) FROM contacts c WHERE c.id IN (\(ContactSearchIndex.candidates)) AND \(filter.sql)",
                               [.text(match)] + filter.binds)
        }
        let filter = whereClause(scope: scope, dialect: dialect)
        return SQLFragment("SELECT COUNT(*) FROM contacts c WHERE \(filter.sql)", filter.binds)
    }

    /// True when no filter at all is set.
    var isUnfiltered: Bool { filter == nil && tags.isEmpty && isTagsOnly }

    /// True when no filter other than tags is set.
    var isTagsOnly: Bool {
        (search?.trimmingCharacters(in: .whitespaces).isEmpty ?? true) && isTextable == nil && optedOut == nil && hasEmail == nil
            && hasPhone == nil && states.isEmpty && zip == nil
    }

    /// The trimmed search term, when there is one and no segment filter replaces it.
    var searchTerm: String? {
        guard filter == nil, let term = search?.trimmingCharacters(in: .whitespaces), !term.isEmpty else { return nil }
        return term
    }

    /// The WHERE clause of the filters. `driven` writes the organization test as `+c.org_id`,
    /// so that SQLite reads the rows from a candidate set (`c.id IN (…)`) instead of an
    /// (org_id, …) index.
    ///
    /// `search` semantics (API.md): case-insensitive substring of first name, last name or email
    /// (ASCII case folding on SQLite), substring of the E.164 phone (the term's digits when it
    /// holds at least 3 digits and other characters), or, for two words, first name and last
    /// name starting with them. This clause is the exact definition; on SQLite the trigram index
    /// (`searchMatch`) only narrows the rows it is checked on.
    func whereClause(scope: OrganizationScope, dialect: SQLDialect, driven: Bool = false) -> SQLFragment {
        var parts = [SQLFragment(driven ? "+c.org_id = ?" : "c.org_id = ?", [.int(scope.key)])]
        if let filter {
            parts.append(filter)
            return SQLFragment.join(parts, with: "AND")
        }
        if let search = searchTerm {
            let like = "%" + search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
            let op = dialect.ilike
            var alternatives = ["c.first_name \(op) ? ESCAPE '\\'", "c.last_name \(op) ? ESCAPE '\\'", "c.email \(op) ? ESCAPE '\\'", "c.phone LIKE ? ESCAPE '\\'"]
            var binds: [SQLValue] = [.text(like), .text(like), .text(like), .text(like)]
            let words = search.split(separator: " ")
            if words.count == 2 {
                alternatives.append("(c.first_name \(op) ? AND c.last_name \(op) ?)")
                binds += [.text(String(words[0]) + "%"), .text(String(words[1]) + "%")]
            }
            let digits = search.filter(\.isNumber)
            if digits.count >= 3 && digits.count != search.count {
                alternatives.append("c.phone LIKE ?")
                binds.append(.text("%" + digits + "%"))
            }
            parts.append(SQLFragment("(" + alternatives.joined(separator: " OR ") + ")", binds))
        }
        if !tags.isEmpty {
            if tagsMatchAll {
                for tag in tags {
                    parts.append(SQLFragment("EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag = ?)", [.text(tag)]))
                }
            } else {
                parts.append(SQLFragment("EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag IN (\(SQLFragment.placeholders(tags.count))))", tags.map { .text($0) }))
            }
        }
        if let isTextable { parts.append(SQLFragment("c.is_textable = ?", [.bool(isTextable)])) }
        if let optedOut { parts.append(SQLFragment(optedOut ? "c.opted_out_at IS NOT NULL" : "c.opted_out_at IS NULL")) }
        if let hasEmail { parts.append(SQLFragment(hasEmail ? "(c.email IS NOT NULL AND c.email <> '')" : "(c.email IS NULL OR c.email = '')")) }
        if let hasPhone { parts.append(hasPhone ? SQLFragment("c.phone <> ''") : SQLFragment("c.phone = ''")) }
        if !states.isEmpty {
            parts.append(SQLFragment("UPPER(c.state) IN (\(SQLFragment.placeholders(states.count)))", states.map { .text($0.uppercased()) }))
        }
        if let zip { parts.append(SQLFragment("c.zip = ?", [.text(zip)])) }
        return SQLFragment.join(parts, with: "AND")
    }
}

// MARK: - Search through the trigram index (SQLite)

extension ContactListQuery {
    /// The FTS5 query (`contacts_search`, trigram tokenizer) whose rows are a superset of the
    /// search's matches: for each alternative of `whereClause`'s search, every trigram of its
    /// text. Nil when there is no search or some alternative has no trigram (a term or both
    /// words of a two-word term shorter than 3 characters): such a search reads contacts in
    /// sort order instead.
    var searchMatch: String? {
        guard let term = searchTerm else { return nil }
        func trigrams(_ s: Substring) -> String? {
            let chars = Array(s)
            guard chars.count >= 3 else { return nil }
            var seen = Set<String>()
            var quoted: [String] = []
            for i in 0...(chars.count - 3) {
                let t = String(chars[i..<(i + 3)])
                if seen.insert(t.lowercased()).inserted { quoted.append("\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\"") }
            }
            return "(" + quoted.joined(separator: " AND ") + ")"
        }
        guard let whole = trigrams(Substring(term)) else { return nil }
        var groups = [whole]
        let words = term.split(separator: " ")
        if words.count == 2 {
            // First name starting with one word and last name with the other: a matching row
            // holds the trigrams of both (of the one that has any, when the other is shorter).
            let both = [trigrams(words[0]), trigrams(words[1])].compactMap { $0 }
            guard !both.isEmpty else { return nil }
            groups.append("(" + both.joined(separator: " AND ") + ")")
        }
        let digits = term.filter(\.isNumber)
        if digits.count >= 3 && digits.count != term.count, let d = trigrams(Substring(digits)) { groups.append(d) }
        return groups.joined(separator: " OR ")
    }
}

// MARK: - Reading a page and its total

extension ContactListQuery {
    /// Candidate sets are counted up to this many rows.
    static let candidateCap = 200_000

    /// Where a filtered page can read its candidate rows from, and how many there are (at most
    /// `candidateCap`).
    struct Driver {
        var fragment: SQLFragment
        var estimate: Int
    }

    var hasSelectiveFilter: Bool { filter != nil || searchTerm != nil || !tags.isEmpty }

    /// Reads one page.
    ///
    /// PostgreSQL plans the single page statement from its statistics. SQLite has no
    /// per-value statistics and would always walk the (org_id, sort, id) index, which is fast
    /// for frequent matches and a scan of the organization for rare ones. So a filtered page
    /// there is read in steps: (1) the first `walkBudget` rows after the cursor in sort order,
    /// filtered — done when that fills the page or reaches the end; (2) otherwise, for the
    /// rest, either the candidate rows of the search's trigram index or of the rarest tag
    /// (sorted, when there are fewer of them than the walk would still read at the density it
    /// saw), or the walk continued.
    func page(_ c: any SQLConnection, scope: OrganizationScope) async throws -> [SQLRow] {
        let plain = pageSQL(scope: scope, dialect: c.dialect)
        guard c.dialect == .sqlite, hasSelectiveFilter else { return try await c.query(plain.sql, plain.binds) }
        let walk = walkSQL(scope: scope)
        let found = try await c.query(walk.sql, walk.binds)
        if found.count >= limit { return found }
        let edge = edgeSQL(scope: scope)
        guard let last = try await c.queryOne(edge.sql, edge.binds) else { return found }
        var rest = self
        rest.after = Position(sortValue: last.int(0), key: last.int(1))
        rest.limit = limit - found.count
        let walkCost = Double(rest.limit) * Double(walkBudget) / max(Double(found.count), 0.5)
        if let driver = try await driver(c, scope: scope), Double(driver.estimate) * 1.5 < walkCost {
            let driven = rest.drivenSQL(scope: scope, driver: driver.fragment)
            return found + (try await c.query(driven.sql, driven.binds))
        }
        let more = rest.pageSQL(scope: scope, dialect: c.dialect)
        return found + (try await c.query(more.sql, more.binds))
    }

    /// The total of matching contacts (ignores pagination).
    func total(_ c: any SQLConnection, scope: OrganizationScope) async throws -> Int64 {
        if c.dialect == .sqlite, isUnfiltered {
            // The other organizations' contacts are subtracted when there are few of them.
            let others = try await c.queryOne("""
                SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM contacts WHERE org_id < ? LIMIT ?)) \
                + (SELECT COUNT(*) FROM (SELECT 1 FROM contacts WHERE org_id > ? LIMIT ?))
                """, [.int(scope.key), .int(Int64(Self.candidateCap)), .int(scope.key), .int(Int64(Self.candidateCap))])?.int(0) ?? 0
            if others >= Int64(Self.candidateCap) {
                let direct = whereClause(scope: scope, dialect: c.dialect)
                return try await c.queryOne("SELECT COUNT(*) FROM contacts c WHERE \(direct.sql)", direct.binds)?.int(0) ?? 0
            }
        }
        if c.dialect == .sqlite, filter != nil, let driver = try await driver(c, scope: scope), driver.estimate < Self.candidateCap {
            // A filter whose tags or lists hold fewer than `candidateCap` contacts: count those
            // candidates, re-checked against the whole filter, instead of every contact.
            let exact = whereClause(scope: scope, dialect: c.dialect, driven: true)
            return try await c.queryOne("SELECT COUNT(*) FROM contacts c WHERE \(driver.fragment.sql) AND \(exact.sql)", driver.fragment.binds + exact.binds)?.int(0) ?? 0
        }
        var q = self
        if c.dialect == .sqlite, tagsMatchAll, tags.count > 1 { q.tags = try await rarestFirst(c, scope: scope) }
        let count = q.countSQL(scope: scope, dialect: c.dialect)
        return try await c.queryOne(count.sql, count.binds)?.int(0) ?? 0
    }

    /// Step 1 of `page`: the filter over the next `walkBudget` rows in sort order.
    func walkSQL(scope: OrganizationScope) -> SQLFragment {
        let sort = sort.column
        let window = windowSQL(scope: scope, select: "c.id", limit: walkBudget, offset: nil)
        let filter = whereClause(scope: scope, dialect: .sqlite)
        return SQLFragment("""
            SELECT \(ContactStore.columns) FROM (\(window.sql)) w JOIN contacts c ON c.id = w.id
            WHERE \(filter.sql) ORDER BY c.\(sort) DESC, c.id DESC LIMIT ?
            """, window.binds + filter.binds + [.int(Int64(limit))])
    }

    /// The position of the last row of step 1's window, when the window was full.
    func edgeSQL(scope: OrganizationScope) -> SQLFragment {
        windowSQL(scope: scope, select: "c.\(sort.column), c.id", limit: 1, offset: walkBudget - 1)
    }

    func windowSQL(scope: OrganizationScope, select: String, limit: Int, offset: Int?) -> SQLFragment {
        let sort = sort.column
        var binds: [SQLValue] = [.int(scope.key)]
        var cursor = ""
        if let after {
            cursor = " AND (c.\(sort), c.id) < (?, ?)"
            binds += [.int(after.sortValue), .int(after.key)]
        }
        binds.append(.int(Int64(limit)))
        var sql = "SELECT \(select) FROM contacts c WHERE c.org_id = ?\(cursor) ORDER BY c.\(sort) DESC, c.id DESC LIMIT ?"
        if let offset {
            sql += " OFFSET ?"
            binds.append(.int(Int64(offset)))
        }
        return SQLFragment(sql, binds)
    }

    /// Step 2 of `page` from a candidate set: the candidates after the cursor, filtered and sorted.
    func drivenSQL(scope: OrganizationScope, driver: SQLFragment) -> SQLFragment {
        let sort = sort.column
        var parts = [driver, whereClause(scope: scope, dialect: .sqlite, driven: true)]
        if let after { parts.append(SQLFragment("(c.\(sort), c.id) < (?, ?)", [.int(after.sortValue), .int(after.key)])) }
        let filter = SQLFragment.join(parts, with: "AND")
        return SQLFragment("SELECT \(ContactStore.columns) FROM contacts c WHERE \(filter.sql) ORDER BY c.\(sort) DESC, c.id DESC LIMIT ?",
                           filter.binds + [.int(Int64(limit))])
    }

    /// The candidate set of the search (trigram index) or of the tags, with its size.
    func driver(_ c: any SQLConnection, scope: OrganizationScope) async throws -> Driver? {
        if searchMatch != nil { return try await membershipDriver(c, scope: scope) }
        let byMembership = try await membershipDriver(c, scope: scope)
        let states = filter == nil ? self.states : filterStates
        guard !states.isEmpty else { return byMembership }
        // The states' rows of the (org_id, UPPER(state), updated_at) index, when there are
        // fewer of them than of the tags' or lists' candidates.
        let binds = [SQLValue.int(scope.key)] + states.map { .text($0.uppercased()) }
        let inStates = "SELECT id FROM contacts WHERE org_id = ? AND UPPER(state) IN (\(SQLFragment.placeholders(states.count)))"
        let n = try await c.queryOne("SELECT COUNT(*) FROM (\(inStates) LIMIT ?)", binds + [.int(Int64(Self.candidateCap))])?.int(0) ?? 0
        if let byMembership, byMembership.estimate <= n { return byMembership }
        return Driver(fragment: SQLFragment("c.id IN (\(inStates))", binds), estimate: Int(n))
    }

    /// The candidates of the search's trigram index, or of the filter's lists or tags.
    func membershipDriver(_ c: any SQLConnection, scope: OrganizationScope) async throws -> Driver? {
        if let match = searchMatch {
            let n = try await c.queryOne("SELECT COUNT(*) FROM (SELECT 1 FROM contacts_search WHERE contacts_search MATCH ? LIMIT ?)",
                                         [.text(match), .int(Int64(Self.candidateCap))])?.int(0) ?? 0
            let backlog = try await ContactSearchIndex.backlog(c)
            return Driver(fragment: SQLFragment("c.id IN (\(ContactSearchIndex.candidates))", [.text(match)]), estimate: Int(n + backlog))
        }
        if filter != nil, !filterListIds.isEmpty {
            let binds = [SQLValue.int(scope.key)] + filterListIds.map { .text($0.uuidString.lowercased()) }
            let lists = "SELECT id FROM lists WHERE org_id = ? AND uuid IN (\(SQLFragment.placeholders(filterListIds.count)))"
            let n = try await c.queryOne("SELECT COUNT(*) FROM (SELECT 1 FROM list_members WHERE list_id IN (\(lists)) LIMIT ?)",
                                         binds + [.int(Int64(Self.candidateCap))])?.int(0) ?? 0
            return Driver(fragment: SQLFragment("c.id IN (SELECT contact_id FROM list_members WHERE list_id IN (\(lists)))", binds), estimate: Int(n))
        }
        let (tags, matchAll) = filter == nil ? (tags, tagsMatchAll) : (filterTags, filterTagsMatchAll)
        guard !tags.isEmpty else { return nil }
        let ordered = matchAll ? try await rarestFirst(tags, c, scope: scope) : tags
        let driving = matchAll ? [ordered[0]] : tags
        let binds = [SQLValue.int(scope.key)] + driving.map { .text($0) }
        let n = try await c.queryOne("""
            SELECT COUNT(*) FROM (SELECT 1 FROM contact_tags WHERE org_id = ? AND tag IN (\(SQLFragment.placeholders(driving.count))) LIMIT ?)
            """, binds + [.int(Int64(Self.candidateCap))])?.int(0) ?? 0
        if matchAll, ordered.count > 1 {
            // All of the tags: intersect them in the tag index (the rarest tag's rows, each
            // probed for the others by primary key), so that only contacts carrying every tag
            // are read from the table. The estimate stays the rarest tag's count.
            let others = ordered.dropFirst()
            let probes = others.map { _ in "EXISTS (SELECT 1 FROM contact_tags t2 WHERE t2.contact_id = t1.contact_id AND t2.tag = ?)" }
            return Driver(fragment: SQLFragment("c.id IN (SELECT t1.contact_id FROM contact_tags t1 WHERE t1.org_id = ? AND t1.tag = ? AND \(probes.joined(separator: " AND ")))",
                                                binds + others.map { .text($0) }),
                          estimate: Int(n))
        }
        return Driver(fragment: SQLFragment("c.id IN (SELECT contact_id FROM contact_tags WHERE org_id = ? AND tag IN (\(SQLFragment.placeholders(driving.count))))", binds),
                      estimate: Int(n))
    }

    /// The tags ordered by how many contacts carry each (counted up to `candidateCap`), rarest first.
    func rarestFirst(_ c: any SQLConnection, scope: OrganizationScope) async throws -> [String] {
        try await rarestFirst(tags, c, scope: scope)
    }

    func rarestFirst(_ tags: [String], _ c: any SQLConnection, scope: OrganizationScope) async throws -> [String] {
        var counted: [(tag: String, count: Int64)] = []
        for tag in Set(tags).sorted() {
            let n = try await c.queryOne("SELECT COUNT(*) FROM (SELECT 1 FROM contact_tags WHERE org_id = ? AND tag = ? LIMIT ?)",
                                         [.int(scope.key), .text(tag), .int(Int64(Self.candidateCap))])?.int(0) ?? 0
            counted.append((tag, n))
        }
        return counted.sorted { $0.count < $1.count }.map(\.tag)
    }
}
