/// What a filter's tag parts (`tags`, `tagsLogic`, `excludeTags`) leave once the exclusions
/// are taken into account. Used by the stores to skip work a filter cannot need; it never
/// changes which contacts match.
extension ContactFilter {
    /// True when the tag parts alone rule out every contact: all of `tags` are required
    /// (`AND`) and one of them is excluded, or any of `tags` would do (`OR`) and every one of
    /// them is excluded. A contact carrying an excluded tag never matches, whatever else it
    /// carries.
    public var tagsMatchNoContact: Bool {
        guard !tags.isEmpty, !excludeTags.isEmpty else { return false }
        let excluded = Set(excludeTags)
        switch tagsLogic {
        case .and: return tags.contains(where: excluded.contains)
        case .or: return tags.allSatisfy(excluded.contains)
        }
    }

    /// The tags of an any-of (`OR`) filter that can still make a contact match: `tags` without
    /// the excluded ones (a contact that qualifies only through an excluded tag is excluded
    /// anyway). For `AND`, `tags` unchanged. Empty when `tagsMatchNoContact` and `tags` is
    /// `OR`, or when `tags` is empty.
    public var effectiveTags: [String] {
        guard tagsLogic == .or, !excludeTags.isEmpty else { return tags }
        let excluded = Set(excludeTags)
        return tags.filter { !excluded.contains($0) }
    }
}
