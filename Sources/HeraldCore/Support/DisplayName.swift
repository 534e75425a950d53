import Foundation

/// The rule for names people give to organizations and API keys, the same in the API and the
/// CLI: 1 to 200 characters, not only spaces.
public enum DisplayName {
    /// The longest name allowed, in characters.
    public static let maximumLength = 200

    /// The rule in words, for error messages.
    public static let rule = "1 to \(maximumLength) characters"

    /// Whether `name` follows the rule.
    public static func isValid(_ name: String) -> Bool {
        !name.trimmingCharacters(in: .whitespaces).isEmpty && name.count <= maximumLength
    }
}
