/// Tag rules (API.md §3): tags are case-insensitive, stored lowercased and trimmed; an empty tag,
/// one longer than 64 characters, or one holding a separator (`,` `;` `|`) is rejected.
public enum ContactTags {
    /// Longest tag, in characters (after trimming).
    public static let maxLength = 64

    /// Characters that separate tags: `,` in the `tags` query parameter, `;` and `|` in CSV
    /// cells (import and export). A tag holding one could be stored but never filtered on or
    /// exported and imported back, so none may.
    public static let separators: Set<Character> = [",", ";", "|"]

    /// The stored form of `raw`: trimmed of whitespace and lowercased. `nil` when the result is
    /// empty or longer than `maxLength`.
    public static func normalize<S: StringProtocol>(_ raw: S) -> String? {
        let tag = ContactFieldRules.trimmed(raw).lowercased()
        guard !tag.isEmpty, tag.count <= maxLength, !tag.contains(where: separators.contains) else { return nil }
        return tag
    }

    /// Normalizes every tag of a request array, reporting each bad one as `field[i]`, and
    /// returns the valid tags de-duplicated in their first-seen order.
    public static func normalize(_ raw: [String], field: String, into issues: inout IssueCollector) -> [String] {
        var seen = Set<String>()
        var tags: [String] = []
        for (index, value) in raw.enumerated() {
            let trimmed = ContactFieldRules.trimmed(value)
            if trimmed.isEmpty {
                issues.add("\(field)[\(index)]", "must not be empty")
            } else if trimmed.count > maxLength {
                issues.add("\(field)[\(index)]", "must be at most \(maxLength) characters")
            } else if trimmed.contains(where: separators.contains) {
                issues.add("\(field)[\(index)]", "must not contain , ; or | (they separate tags in filters and CSV files)")
            } else {
                let tag = trimmed.lowercased()
                if seen.insert(tag).inserted { tags.append(tag) }
            }
        }
        return tags
    }

    /// Splits an import cell on `;` or `|` (API.md §3 import), and on `,` (a separator
    /// everywhere else, so never part of a tag), and normalizes each part. Empty
    /// parts (`a;;b`, trailing `;`) are dropped silently; parts longer than `maxLength` are
    /// returned in `invalid`.
    public static func split<S: StringProtocol>(_ cell: S) -> (tags: [String], invalid: [String]) {
        var tags: [String] = []
        var invalid: [String] = []
        var seen = Set<String>()
        for part in cell.split(whereSeparator: separators.contains) {
            let trimmed = ContactFieldRules.trimmed(part)
            if trimmed.isEmpty { continue }
            if trimmed.count > maxLength {
                invalid.append(trimmed)
                continue
            }
            let tag = trimmed.lowercased()
            if seen.insert(tag).inserted { tags.append(tag) }
        }
        return (tags, invalid)
    }
}
