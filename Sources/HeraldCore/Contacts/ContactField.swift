/// A contact field a filter condition can test (API.md §3): a standard field or
/// `customFields.<name>`.
public enum ContactField: Sendable, Hashable {
    case standard(StandardContactField)
    /// A custom field; the name satisfies `ContactFieldRules.isValidCustomFieldName`.
    case custom(String)

    /// Parses `phone`, `createdAt`, `customFields.team`, … (`nil` when unknown or invalid).
    public init?(path: String) {
        if let standard = StandardContactField(rawValue: path) {
            self = .standard(standard)
        } else if path.hasPrefix("customFields.") {
            let name = path.dropFirst("customFields.".count)
            guard ContactFieldRules.isValidCustomFieldName(name) else { return nil }
            self = .custom(String(name))
        } else {
            return nil
        }
    }

    /// The API spelling (`firstName`, `customFields.team`).
    public var path: String {
        switch self {
        case .standard(let field): field.rawValue
        case .custom(let name): "customFields.\(name)"
        }
    }

    /// How values of the field compare. Custom fields are text that may hold numbers.
    public var kind: StandardContactField.Kind {
        switch self {
        case .standard(let field): field.kind
        case .custom: .custom
        }
    }
}

/// The standard contact fields a filter condition may name (API.md §3 contact object).
public enum StandardContactField: String, Sendable, Hashable, CaseIterable {
    case phone, firstName, lastName, email, city, state, zip, timezone
    case isOptedIn, optedOutAt, isTextable, createdAt, updatedAt

    /// The comparison domain of a field.
    public enum Kind: Sendable, Hashable {
        /// Text (compared as strings).
        case text
        /// `true`/`false`; only `eq`, `neq`, `exists`, `notExists`.
        case boolean
        /// An instant (compared in time, whatever offset the value was written with).
        case instant
        /// A custom field: text, but the value may be a string, number or boolean.
        case custom
    }

    public var kind: Kind {
        switch self {
        case .isOptedIn, .isTextable: .boolean
        case .optedOutAt, .createdAt, .updatedAt: .instant
        default: .text
        }
    }
}
