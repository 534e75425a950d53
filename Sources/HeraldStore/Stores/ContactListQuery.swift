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
    /// The filter's excluded tags, which narrow candidates in the tag index before contact
    /// rows are read.
    public var filterExcludeTags: [String] = []
    /// True when `filter` is known to match no contact at all (its tag parts contradict each
    /// other, see `ContactFilter.tagsMatchNoContact`): pages are empty and the total is 0
    /// without reading anything.
    public var filterMatchesNothing = false
    /// True when `filter` is decided by tags and list memberships alone (see
    /// `ContactFilter.readsContactFields`).
    public var filterReadsOnlyMemberships = false
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
        filterTags = contactFilter.effectiveTags
        filterTagsMatchAll = contactFilter.tagsLogic == .and && contactFilter.tags.count > 1
        filterExcludeTags = contactFilter.excludeTags
        filterListIds = contactFilter.listIds
        filterStates = contactFilter.states
        filterMatchesNothing = contactFilter.tagsMatchNoContact
        filterReadsOnlyMemberships = !contactFilter.readsContactFields
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
                // Any of the tags: each tag's contacts that carry none of the tags before it,
                // summed (exact, and no sort of the union). `tags` should come most frequent
                // first, so that the largest one is counted from the index alone.
                var terms: [String] = []
                var binds: [SQLValue] = []
                for (i, tag) in tags.enumerated() {
                    var term = "SELECT COUNT(*) FROM contact_tags t WHERE t.org_id = ? AND t.tag = ?"
                    binds += [.int(scope.key), .text(tag)]
                    if i > 0 {
                        term += " AND NOT EXISTS (SELECT 1 FROM contact_tags p WHERE p.contact_id = t.contact_id AND p.tag IN (\(SQLFragment.placeholders(i))))"
                        binds += tags[..<i].map { .text($0) }
                    }
                    terms.append("(\(term))")
                }
                return SQLFragment("SELECT " + terms.joined(separator: " + "), binds)
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
    /// (`TextFolding`, in every script), substring of the E.164 phone (the term's digits when it
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
            let like = ContactFilterSQL.likePattern(search, prefix: false)
            var alternatives = ["c.first_name", "c.last_name", "c.email"].map { dialect.foldedLike(SQLFragment($0), pattern: like) }
            alternatives.append(SQLFragment("c.phone LIKE ? ESCAPE '\\'", [.text(like)]))
            let words = search.split(separator: " ")
            if words.count == 2 {
                alternatives.append(SQLFragment.join([dialect.foldedLike(SQLFragment("c.first_name"), pattern: ContactFilterSQL.likePattern(String(words[0]), prefix: true)),
                                                      dialect.foldedLike(SQLFragment("c.last_name"), pattern: ContactFilterSQL.likePattern(String(words[1]), prefix: true))],
                                                     with: "AND"))
            }
            let digits = search.filter(\.isNumber)
            if digits.count >= 3 && digits.count != search.count {
                alternatives.append(SQLFragment("c.phone LIKE ?", [.text("%" + digits + "%")]))
            }
            parts.append(SQLFragment.join(alternatives, with: "OR"))
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
        // Trigrams of Unicode scalars, as the trigram tokenizer cuts text: a trigram of three
        // characters could hold four or more scalars (`é` as `e` + U+0301), which FTS5 reads
        // as a phrase of two tokens, a query a `detail=none` index cannot answer.
        func trigrams(_ s: Substring) -> String? {
            let chars = Array(s.unicodeScalars)
            guard chars.count >= 3 else { return nil }
            var seen = Set<String>()
            var quoted: [String] = []
            for i in 0...(chars.count - 3) {
                var t = String.UnicodeScalarView()
                t.append(contentsOf: chars[i..<(i + 3)])
                let trigram = String(t)
                let folded = TextFolding.fold(trigram)
                if seen.insert(folded).inserted { quoted.append("\"" + folded.replacingOccurrences(of: "\"", with: "\"\"") + "\"") }
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
        /// Rows of the chosen source (up to the cap it was counted to).
        var estimate: Int
        /// What reading the candidates costs, in walked rows.
        var cost: Double
    }

    var hasSelectiveFilter: Bool { filter != nil || searchTerm != nil || !tags.isEmpty }

    /// Reads one page.
    ///
    /// PostgreSQL plans the single page statement from its statistics. SQLite has no
    /// per-value statistics and would always walk the (org_id, sort, id) index, which is fast
    /// for frequent matches and a scan of the organization for rare ones. So a filtered page
    /// there is read in steps: (1) the first rows after the cursor in sort order, filtered —
    /// done when that fills the page or reaches the end; (2) otherwise, for the rest: the
    /// filter's states walked one by one when the density seen says their windows fill the
    /// page (`stateWalk`); else the filter's candidates (see `driver`) sorted, when reading
    /// them costs less than the walk would still cost at the density it saw; else the walk
    /// continued.
    ///
    /// Tag and list parts are decided by index probes on the walked entry's id, and SQLite
    /// reads a walked contact's row only once it needs one of its fields (its deferred seek),
    /// so a walk of a filter that checks those parts first costs a fraction of a row read per
    /// row and step 1 goes further (`WalkKind`).
    func page(_ c: any SQLConnection, scope: OrganizationScope) async throws -> [SQLRow] {
        if filter != nil, filterMatchesNothing { return [] }
        let plain = pageSQL(scope: scope, dialect: c.dialect)
        guard c.dialect == .sqlite, hasSelectiveFilter else { return try await c.query(plain.sql, plain.binds) }
        let walkKind = self.walkKind
        let budget = walkBudget * walkKind.factor
        let edge = edgeSQL(scope: scope, budget: budget)
        let found: [SQLRow]
        let last: SQLRow
        if walkKind != .rows {
            // Fewer rows than the budget are left: walking all of them is the cheapest.
            guard let edgeRow = try await c.queryOne(edge.sql, edge.binds) else { return try await c.query(plain.sql, plain.binds) }
            last = edgeRow
            let walk = boundedWalkSQL(scope: scope, through: Position(sortValue: last.int(0), key: last.int(1)))
            found = try await c.query(walk.sql, walk.binds)
            if found.count >= limit { return found }
        } else {
            let walk = walkSQL(scope: scope)
            found = try await c.query(walk.sql, walk.binds)
            if found.count >= limit { return found }
            guard let edgeRow = try await c.queryOne(edge.sql, edge.binds) else { return found }
            last = edgeRow
        }
        var rest = self
        rest.after = Position(sortValue: last.int(0), key: last.int(1))
        rest.limit = limit - found.count
        // What the continued walk would still cost at the density the first step saw, in
        // walked rows, against the candidates (see `driver` for their cost).
        let rowCost = walkKind.rowCost
        let walkCost = Double(rest.limit) * Double(budget) / max(Double(found.count), 0.5) * rowCost
        if let byStates = try await rest.stateWalk(c, scope: scope, walked: budget, found: found.count) {
            return found + byStates
        }
        let cap = Int(min(Double(Self.candidateCap), walkCost / Self.narrowedCandidateCost) + 1)
        if let driver = try await driver(c, scope: scope, cap: cap), driver.cost < walkCost {
            let driven = rest.drivenSQL(scope: scope, driver: driver.fragment)
            return found + (try await c.query(driven.sql, driven.binds))
        }
        let more = rest.pageSQL(scope: scope, dialect: c.dialect)
        return found + (try await c.query(more.sql, more.binds))
    }

    /// How step 1 of `page` walks.
    enum WalkKind {
        /// Tags and lists decide alone: rows are read only for matches.
        case memberships
        /// Tags or lists are checked first (by index probes), then the contact's fields: rows
        /// are read only for contacts that pass the probes.
        case membershipsFirst
        /// Every walked row is read.
        case rows

        /// How many times `walkBudget` step 1 walks.
        var factor: Int {
            switch self {
            case .memberships: 4
            case .membershipsFirst: 2
            case .rows: 1
            }
        }

        /// A walked row's cost in rows that are read (measured on 1M contacts: a walked
        /// entry with its probes ~0.5–0.7 µs, with the row read and checked ~1.5 µs).
        var rowCost: Double {
            switch self {
            case .memberships: 0.4
            case .membershipsFirst: 0.7
            case .rows: 1
            }
        }
    }

    var walkKind: WalkKind {
        if filter != nil {
            if filterReadsOnlyMemberships { return .memberships }
            return filterTags.isEmpty && filterListIds.isEmpty ? .rows : .membershipsFirst
        }
        if tags.isEmpty || searchTerm != nil { return .rows }
        return isTagsOnly ? .memberships : .membershipsFirst
    }

    /// The cost of a candidate read from the table and sorted, in walked rows.
    static let candidateCost = 1.5
    /// The cost of one index probe on a candidate, in walked rows (measured on 1M contacts: a
    /// probe of the tag index is ~0.4–0.7 µs, a walked row with its filter ~1.5 µs).
    static let narrowedCandidateCost = 0.5

    /// The total of matching contacts (ignores pagination).
    func total(_ c: any SQLConnection, scope: OrganizationScope) async throws -> Int64 {
        if filter != nil, filterMatchesNothing { return 0 }
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
        if filter == nil, tags.count > 1, isTagsOnly {
            q.tags = Array(Set(tags)).sorted()
            if c.dialect == .sqlite, tagsMatchAll {
                q.tags = try await rarestFirst(q.tags, c, scope: scope)
            } else if c.dialect == .sqlite {
                // Most frequent first, by exact counts (an index-only count is ~20× cheaper
                // than a probe, so the largest tag must be the one that is only counted).
                let counts = try await c.query("SELECT tag, COUNT(*) FROM contact_tags WHERE org_id = ? AND tag IN (\(SQLFragment.placeholders(q.tags.count))) GROUP BY tag",
                                               [.int(scope.key)] + q.tags.map { .text($0) })
                let n = Dictionary(uniqueKeysWithValues: counts.map { ($0.text(0), $0.int(1)) })
                q.tags.sort { (n[$0] ?? 0, $0) > (n[$1] ?? 0, $1) }
            }
        }
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

    /// The position of the last row of step 1's window of `budget` rows, when the window was full.
    func edgeSQL(scope: OrganizationScope, budget: Int) -> SQLFragment {
        windowSQL(scope: scope, select: "c.\(sort.column), c.id", limit: 1, offset: budget - 1)
    }

    /// Step 1 of `page` for a filter that checks memberships first: the page statement down to
    /// `edge` (inclusive), so that SQLite walks the sort index and reads a row only once its
    /// probes pass.
    func boundedWalkSQL(scope: OrganizationScope, through edge: Position) -> SQLFragment {
        let sort = sort.column
        var parts = [whereClause(scope: scope, dialect: .sqlite),
                     SQLFragment("(c.\(sort), c.id) >= (?, ?)", [.int(edge.sortValue), .int(edge.key)])]
        if let after { parts.append(SQLFragment("(c.\(sort), c.id) < (?, ?)", [.int(after.sortValue), .int(after.key)])) }
        let filter = SQLFragment.join(parts, with: "AND")
        return SQLFragment("SELECT \(ContactStore.columns) FROM contacts c WHERE \(filter.sql) ORDER BY c.\(sort) DESC, c.id DESC LIMIT ?",
                           filter.binds + [.int(Int64(limit))])
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

    /// The candidate set a page or total reads instead of walking the organization: the
    /// smallest of the search's trigram matches, the filter's lists, its tags (the rarest one
    /// for all-of) and its states, counted up to `cap` rows. Before any contact row is read,
    /// the candidates are narrowed in the indexes alone by the tag and list parts the source
    /// does not already imply (`contact_tags (contact_id, tag)` and `list_members` probes), so
    /// that a rare combination of common parts reads few rows. A plan choice only: the exact
    /// filter is applied to whatever the driver yields.
    func driver(_ c: any SQLConnection, scope: OrganizationScope, cap: Int = candidateCap) async throws -> Driver? {
        let parts = candidateParts
        var best: (source: CandidateSource, count: Int)?
        func consider(_ source: CandidateSource, key: FilterPart, counted: Int? = nil) async throws {
            // Counting further than the best source so far cannot change the choice.
            let limit = min(cap, (best?.count ?? cap - 1) + 1)
            let n: Int
            if let counted {
                n = min(counted, limit)
            } else {
                n = try await Self.count(key, scope: scope, limit: limit, c) { try await source.count(c, limit: $0) }
            }
            if best == nil || n < best!.count { best = (source, n) }
        }
        if let match = searchMatch {
            let backlog = try await ContactSearchIndex.backlog(c)
            let n = try await c.queryOne("SELECT COUNT(*) FROM (SELECT 1 FROM contacts_search WHERE contacts_search MATCH ? LIMIT ?)",
                                         [.text(match), .int(Int64(cap))])?.int(0) ?? 0
            best = (CandidateSource(kind: .search, sql: "SELECT s.id FROM (\(ContactSearchIndex.candidates)) s", binds: [.text(match)]),
                    Int(n + backlog))
        } else {
            if !parts.lists.isEmpty {
                let binds = [SQLValue.int(scope.key)] + parts.lists.map { .text($0.uuidString.lowercased()) }
                try await consider(CandidateSource(kind: .lists, sql: """
                    SELECT s.contact_id FROM list_members s WHERE s.list_id IN \
                    (SELECT id FROM lists WHERE org_id = ? AND uuid IN (\(SQLFragment.placeholders(parts.lists.count))))
                    """, binds: binds), key: .lists(parts.lists))
            }
            if !parts.tags.isEmpty {
                if parts.tagsAll {
                    // The rarest tag drives; the others become probes.
                    let rarest = try await tagCounts(parts.tags, c, scope: scope, cap: min(cap, (best?.count ?? cap - 1) + 1))[0]
                    try await consider(CandidateSource(kind: .tags(driving: [rarest.tag]),
                                                       sql: "SELECT s.contact_id FROM contact_tags s WHERE s.org_id = ? AND s.tag = ?",
                                                       binds: [.int(scope.key), .text(rarest.tag)]),
                                       key: .tags([rarest.tag]), counted: Int(rarest.count))
                } else {
                    try await consider(CandidateSource(kind: .tags(driving: parts.tags), sql: """
                        SELECT s.contact_id FROM contact_tags s WHERE s.org_id = ? AND s.tag IN (\(SQLFragment.placeholders(parts.tags.count)))
                        """, binds: [.int(scope.key)] + parts.tags.map { .text($0) }), key: .tags(parts.tags))
                }
            }
            if !parts.states.isEmpty {
                try await consider(CandidateSource(kind: .states, sql: """
                    SELECT s.id FROM contacts s WHERE s.org_id = ? AND UPPER(s.state) IN (\(SQLFragment.placeholders(parts.states.count)))
                    """, binds: [.int(scope.key)] + parts.states.map { .text($0.uppercased()) }), key: .states(parts.states))
            }
        }
        guard let best else { return nil }
        let probes = best.source.probes(parts, scope: scope)
        var narrowed = best.source.sql
        if !probes.isEmpty {
            narrowed += (best.source.hasWhere ? " AND " : " WHERE ") + probes.map { "(\($0.sql))" }.joined(separator: " AND ")
        }
        // Each probe settles a tag or list part in the indexes; states that do not drive still
        // need each surviving candidate's row.
        var drivesStates = false
        if case .states = best.source.kind { drivesStates = true }
        var perCandidate = Self.candidateCost
        if !probes.isEmpty {
            perCandidate = Double(probes.count) * Self.narrowedCandidateCost
            if !parts.states.isEmpty && !drivesStates { perCandidate += Self.candidateCost }
        }
        let chosen = Driver(fragment: SQLFragment("c.id IN (\(narrowed))", best.source.binds + probes.flatMap(\.binds)),
                            estimate: best.count, cost: Double(best.count) * perCandidate)
        // When even the smallest part reached the cap, so does any intersection's estimate.
        if searchMatch == nil, best.count < cap, let merged = try await intersectionDriver(c, scope: scope, budget: chosen.cost) {
            return merged
        }
        return chosen
    }

    /// The parts of the query that can select or narrow candidates: from the segment or
    /// contact filter when there is one, else from the list parameters.
    var candidateParts: CandidateParts {
        if filter != nil {
            return CandidateParts(tags: filterTags, tagsAll: filterTagsMatchAll, excludeTags: filterExcludeTags,
                                  lists: filterListIds, states: filterStates)
        }
        return CandidateParts(tags: tags, tagsAll: tagsMatchAll && tags.count > 1, excludeTags: [], lists: [], states: states)
    }

    struct CandidateParts {
        var tags: [String]
        var tagsAll: Bool
        var excludeTags: [String]
        var lists: [UUID]
        var states: [String]
    }

    /// A statement selecting candidate contact ids (`s.…` is its id column), before narrowing.
    struct CandidateSource {
        enum Kind {
            case search, lists, tags(driving: [String]), states
            var isLists: Bool { if case .lists = self { true } else { false } }
        }
        var kind: Kind
        var sql: String
        var binds: [SQLValue]

        var hasWhere: Bool { if case .search = kind { false } else { true } }

        /// The source's id expression, as the probes refer to it.
        var id: String {
            switch kind {
            case .search, .states: "s.id"
            case .lists, .tags: "s.contact_id"
            }
        }

        /// Its rows, counted up to `limit`.
        func count(_ c: any SQLConnection, limit: Int) async throws -> Int {
            try await ContactListQuery.countRows(sql, binds, limit: limit, c)
        }

        /// Index-only conditions on `id` for the parts this source does not imply. Tag rows
        /// and list rows only exist for contacts of their own organization.
        func probes(_ parts: CandidateParts, scope: OrganizationScope) -> [SQLFragment] {
            var probes: [SQLFragment] = []
            let tagProbe = "EXISTS (SELECT 1 FROM contact_tags p WHERE p.contact_id = \(id) AND p.tag"
            if !parts.tags.isEmpty {
                var implied: Set<String> = []
                if case .tags(let driving) = kind { implied = Set(driving) }
                if parts.tagsAll {
                    for tag in parts.tags where !implied.contains(tag) {
                        probes.append(SQLFragment("\(tagProbe) = ?)", [.text(tag)]))
                    }
                } else if implied.isEmpty {
                    probes.append(SQLFragment("\(tagProbe) IN (\(SQLFragment.placeholders(parts.tags.count))))", parts.tags.map { .text($0) }))
                }
            }
            if let exclusion = ContactListQuery.exclusionProbe(parts.excludeTags, id: id) { probes.append(exclusion) }
            if !parts.lists.isEmpty, !kind.isLists {
                probes.append(SQLFragment("""
                    EXISTS (SELECT 1 FROM list_members p WHERE p.contact_id = \(id) AND p.list_id IN \
                    (SELECT id FROM lists WHERE org_id = ? AND uuid IN (\(SQLFragment.placeholders(parts.lists.count)))))
                    """, [.int(scope.key)] + parts.lists.map { .text($0.uuidString.lowercased()) }))
            }
            return probes
        }
    }

    /// A filter part's rows counted up to `limit`, through the connection's recent counts when
    /// it has them (SQLite).
    static func count(_ part: FilterPart, scope: OrganizationScope, limit: Int, _ c: any SQLConnection,
                      measure: (Int) async throws -> Int) async throws -> Int {
        guard let counts = c.filterPartCounts else { return try await measure(limit) }
        return try await counts.count(org: scope.key, part: part, limit: limit, measure: measure)
    }

    /// The rows `sql` selects, counted up to `limit`.
    static func countRows(_ sql: String, _ binds: [SQLValue], limit: Int, _ c: any SQLConnection) async throws -> Int {
        Int(try await c.queryOne("SELECT COUNT(*) FROM (\(sql) LIMIT ?)", binds + [.int(Int64(limit))])?.int(0) ?? 0)
    }

    /// The tags ordered by how many contacts carry each (counted up to `candidateCap`), rarest first.
    func rarestFirst(_ c: any SQLConnection, scope: OrganizationScope) async throws -> [String] {
        try await rarestFirst(tags, c, scope: scope)
    }

    /// `tags` by how many contacts carry each, rarest first. Each is counted up to `cap` rows,
    /// and, once one is known to be rarer, only as far as that one.
    func rarestFirst(_ tags: [String], _ c: any SQLConnection, scope: OrganizationScope, cap: Int = candidateCap) async throws -> [String] {
        try await tagCounts(tags, c, scope: scope, cap: cap).map(\.tag)
    }

    /// `tags` with how many contacts carry each, rarest first; counted as in `rarestFirst`, so
    /// only the first count is exact (below `cap`), the others are at least it.
    func tagCounts(_ tags: [String], _ c: any SQLConnection, scope: OrganizationScope, cap: Int) async throws -> [(tag: String, count: Int64)] {
        var counted: [(tag: String, count: Int64)] = []
        var bound = Int64(cap)
        for tag in Set(tags).sorted() {
            let n = Int64(try await Self.count(.tags([tag]), scope: scope, limit: Int(bound), c) { limit in
                try await Self.countRows("SELECT 1 FROM contact_tags WHERE org_id = ? AND tag = ?", [.int(scope.key), .text(tag)], limit: limit, c)
            })
            counted.append((tag, n))
            bound = min(bound, n + 1)
        }
        return counted.sorted { $0.count < $1.count }
    }
}
