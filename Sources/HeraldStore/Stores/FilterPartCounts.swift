import Foundation
import Synchronization

/// A part of a contact filter that SQLite can read candidates from. Built through `tags`,
/// `lists` and `states`, which make equal parts equal (order, repeats, state case).
public enum FilterPart: Hashable, Sendable {
    case tagSet(Set<String>), listSet(Set<UUID>), stateSet(Set<String>)
    /// The organization's contacts.
    case everyContact
    static func tags(_ t: [String]) -> FilterPart { .tagSet(Set(t)) }
    static func lists(_ l: [UUID]) -> FilterPart { .listSet(Set(l)) }
    static func states(_ s: [String]) -> FilterPart { .stateSet(Set(s.map { $0.uppercased() })) }
}

/// How many contacts each filter part held a moment ago (SQLite).
///
/// The page plans of `ContactListQuery` count a filter's parts to choose where to read
/// candidates from; on 1M contacts those counts take 5–20 ms of a 40–70 ms page. The counts
/// only choose a plan — every plan returns the same rows — so a count up to
/// `lifetime` old is as good as a fresh one, and one kept per organization and part spares the
/// next pages of the same filter (and other filters sharing a tag or states) the counting.
public final class FilterPartCounts: Sendable {
    struct Key: Hashable {
        var org: Int64
        var part: FilterPart
    }

    struct Entry {
        /// Rows counted; exact when `exact`, else a lower bound (the count stopped there).
        var count: Int
        var exact: Bool
        var counted: ContinuousClock.Instant
    }

    /// How long a count is used.
    static let lifetime = Duration.seconds(30)
    /// At most this many counts are kept; beyond, expired ones are dropped, then all.
    static let capacity = 4096

    private let entries = Mutex<[Key: Entry]>([:])

    public init() {}

    /// The part's rows counted up to `limit`: remembered when a fresh count settles it, else
    /// counted by `measure(limit)` and remembered.
    func count(org: Int64, part: FilterPart, limit: Int, measure: (Int) async throws -> Int) async throws -> Int {
        let key = Key(org: org, part: part)
        let now = ContinuousClock.now
        let known: Int? = entries.withLock { entries in
            guard let e = entries[key], now - e.counted < Self.lifetime else { return nil }
            if e.exact { return min(e.count, limit) }
            return e.count >= limit ? limit : nil
        }
        if let known { return known }
        let n = try await measure(limit)
        entries.withLock { entries in
            if entries.count >= Self.capacity {
                entries = entries.filter { now - $0.value.counted < Self.lifetime }
                if entries.count >= Self.capacity { entries.removeAll() }
            }
            entries[key] = Entry(count: n, exact: n < limit, counted: now)
        }
        return n
    }
}
