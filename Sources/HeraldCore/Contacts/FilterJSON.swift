/// A JSON value, decoded without any schema, so that a contact filter can be validated field by
/// field (wrong types become `FieldIssue`s instead of decoding errors, unknown keys are ignored).
///
/// Numbers are held as `Double` (RFC 8259 §6 interoperable range).
public indirect enum FilterJSON: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([FilterJSON])
    case object([String: FilterJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([FilterJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: FilterJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// A short name of the value's JSON type, for messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The member `key` of an object (`nil` for other values and for JSON `null`).
    public subscript(key: String) -> FilterJSON? {
        guard case .object(let members) = self, let value = members[key], value != .null else { return nil }
        return value
    }
}

extension FilterJSON {
    /// 2^53: whole numbers below it in size are exactly what an IEEE double, so a JSON number
    /// (RFC 8259 §6), holds exactly.
    public static let exactIntegerLimit: Double = 9_007_199_254_740_992

    /// The text a JSON number is kept and compared as (custom fields, filter values, settings):
    /// a whole number within ±2^53 as an integer (`42`, not `42.0` or `1e+15`), anything else in
    /// Swift's shortest round-trip form.
    public static func text(ofNumber d: Double) -> String {
        d.rounded() == d && abs(d) < exactIntegerLimit ? String(Int64(d)) : String(d)
    }
}
