import Foundation

/// The SQLite trigram index of contact search (`contacts_search`, migration 3), kept up to date
/// in bulk rather than per row. At any moment the contacts whose entries are missing or stale
/// are exactly those with `id > contacts_search_state.last_id` (inserted since the last sync)
/// and those in `contacts_search_pending` (updated or deleted since, with the values the index
/// still holds), so `candidates` is always a superset of a search's matches.
enum ContactSearchIndex {
    /// Contacts a search reads besides the index's matches at most (an upper bound).
    static let syncThreshold: Int64 = 1000

    /// The ids a search must check for the FTS5 query bound as its `?`: the index's matches,
    /// plus every contact the index does not cover yet.
    static let candidates = """
        SELECT rowid AS id FROM contacts_search WHERE contacts_search MATCH ? \
        UNION ALL SELECT contact_id FROM contacts_search_pending \
        UNION ALL SELECT id FROM contacts WHERE id > (SELECT last_id FROM contacts_search_state)
        """

    /// How many contacts the index does not cover (an upper bound: ids may have gaps).
    static func backlog(_ c: any SQLConnection) async throws -> Int64 {
        try await c.queryOne("""
            SELECT (SELECT COUNT(*) FROM contacts_search_pending) + (SELECT COALESCE(MAX(id), 0) FROM contacts) \
            - (SELECT last_id FROM contacts_search_state)
            """, [])?.int(0) ?? 0
    }

    /// Removes the stale entries, indexes the changed and new contacts (a few µs each, in
    /// multi-row statements) and moves `last_id` to the newest contact. Run in a transaction.
    /// The index holds the text folded by `herald_fold` (`TextFolding`), not as stored: FTS5's
    /// own case folding stops at an older Unicode (it keeps `İ`, Cherokee and Georgian capitals),
    /// and a search's trigrams, folded the same way, must find every row its folded LIKE
    /// matches. A delete names exactly the folded values that were indexed.
    static func sync(_ c: any SQLConnection) async throws {
        let last = try await c.queryOne("SELECT last_id FROM contacts_search_state", [])?.int(0) ?? 0
        try await c.execute("""
            INSERT INTO contacts_search (contacts_search, rowid, first_name, last_name, email, phone)
            SELECT 'delete', contact_id, herald_fold(first_name), herald_fold(last_name), herald_fold(email), phone FROM contacts_search_pending
            """, [])
        try await c.execute("""
            INSERT INTO contacts_search (rowid, first_name, last_name, email, phone)
            SELECT c.id, herald_fold(c.first_name), herald_fold(c.last_name), herald_fold(c.email), c.phone FROM contacts_search_pending p JOIN contacts c ON c.id = p.contact_id
            WHERE c.id <= ?
            """, [.int(last)])
        try await c.execute("""
            INSERT INTO contacts_search (rowid, first_name, last_name, email, phone)
            SELECT id, herald_fold(first_name), herald_fold(last_name), herald_fold(email), phone FROM contacts WHERE id > ?
            """, [.int(last)])
        try await c.execute("DELETE FROM contacts_search_pending", [])
        try await c.execute("UPDATE contacts_search_state SET last_id = (SELECT COALESCE(MAX(id), 0) FROM contacts)", [])
    }
}
