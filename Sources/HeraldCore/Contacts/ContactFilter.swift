import Foundation

/// A validated, normalized contact filter (API.md §3), used by a campaign's `contactFilter`,
/// segments and previews. The storage layer compiles it to SQL by walking its properties.
///
/// Semantics (all parts are ANDed together; an empty part does not restrict):
/// - `tags`: the contact has any (`tagsLogic == .or`, the default) or all (`.and`) of them.
/// - `excludeTags`: the contact has none of them.
/// - `listIds`: the contact is in any of the lists.
/// - `states`, `zips`, `cities`: the field equals one of the values (compare
///   case-insensitively; values are trimmed, otherwise as given).
/// - `conditions`: all (`conditionsLogic == .and`, the default) or any (`.or`) hold.
///
/// `{}` (and JSON `null`) is the filter that matches every contact (`matchesEveryContact`).
///
/// Build one from request JSON with `init(validating:path:)`, which reports every failing
/// field at once. `Codable` conformance speaks the API's JSON shape: decoding validates the
/// same way (throwing `ValidationError`, never failing on unknown keys), encoding writes the
/// normalized form, which decodes back to an equal value.
public struct ContactFilter: Sendable, Hashable, Codable {
    /// How the members of a list combine.
    public enum Logic: String, Sendable, Hashable, CaseIterable {
        case and = "AND"
        case or = "OR"
    }

    /// A condition operator.
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case eq, neq, `in`, notIn, contains, startsWith, exists, notExists, gt, gte, lt, lte

        /// The value an operator takes.
        public enum Arity: Sendable, Hashable { case none, scalar, list }

        public var arity: Arity {
            switch self {
            case .exists, .notExists: .none
            case .in, .notIn: .list
            default: .scalar
            }
        }

        public var isOrdering: Bool { [.gt, .gte, .lt, .lte].contains(self) }
    }

    /// A condition value, typed by the field it applies to.
    public indirect enum Value: Sendable, Hashable {
        case string(String)
        case number(Double)
        case bool(Bool)
        /// An instant as milliseconds since 1970-01-01T00:00:00Z (sub-millisecond digits are
        /// truncated).
        case instant(epochMilliseconds: Int64)
        /// The values of `in` / `notIn`.
        case list([Value])
    }

    /// One `{field, op, value}` condition. `value` is `nil` exactly for `exists`/`notExists`.
    public struct Condition: Sendable, Hashable {
        public var field: ContactField
        public var op: Operator
        public var value: Value?

        public init(field: ContactField, op: Operator, value: Value?) {
            self.field = field
            self.op = op
            self.value = value
        }
    }

    public static let maxConditions = 100
    public static let maxTags = 100
    public static let maxListIds = 100
    public static let maxListValues = 1000
    public static let maxValueLength = 1000
    /// Values in the whole filter: tags, excluded tags, list ids, states, zips, cities and
    /// every condition's value(s) together. Each becomes a bound parameter of the audience
    /// query, and the databases refuse statements past their limit (PostgreSQL's wire protocol
    /// 65,535, SQLite builds commonly 32,766); this keeps every filter far below both, with
    /// room for the rest of the statement.
    public static let maxTotalValues = 10_000

    /// How many values the filter holds (`maxTotalValues`).
    public var valueCount: Int {
        var count = tags.count + excludeTags.count + listIds.count + states.count + zips.count + cities.count
        for condition in conditions {
            switch condition.value {
            case .list(let values)?: count += values.count
            case .some: count += 1
            case nil: break
            }
        }
        return count
    }

    /// Lowercased, trimmed, de-duplicated.
    public var tags: [String] = []
    public var tagsLogic: Logic = .or
    /// Lowercased, trimmed, de-duplicated.
    public var excludeTags: [String] = []
    public var listIds: [UUID] = []
    public var states: [String] = []
    public var zips: [String] = []
    public var cities: [String] = []
    public var conditions: [Condition] = []
    public var conditionsLogic: Logic = .and

    /// The filter that matches every contact.
    public init() {}

    /// Whether the filter restricts nothing (`{}`).
    public var matchesEveryContact: Bool {
        tags.isEmpty && excludeTags.isEmpty && listIds.isEmpty && states.isEmpty && zips.isEmpty
            && cities.isEmpty && conditions.isEmpty
    }

    /// Whether deciding a match reads the contact's own fields (states, zips, cities,
    /// conditions) rather than only its tags and list memberships. Stores use it to choose
    /// plans; it never changes which contacts match.
    public var readsContactFields: Bool {
        !states.isEmpty || !zips.isEmpty || !cities.isEmpty || !conditions.isEmpty
    }

    /// Validates request JSON, reporting every failing field as `path.key` (`filter.tagsLogic`,
    /// `filter.conditions[2].op`; plain `tagsLogic` when `path` is empty). Unknown keys are
    /// ignored; JSON `null` for a key is the same as leaving it out.
    public init(validating json: FilterJSON, path: String = "") throws(ValidationError) {
        let checked = Self.check(json, path: path)
        guard let filter = checked.filter else { throw ValidationError(checked.typeIssues + checked.ruleIssues) }
        self = filter
    }

    /// What validating request JSON found, with wrong JSON types (a member that is not the
    /// object, array or string its key always takes; API.md §1's 400 `invalid_request`) kept
    /// apart from broken rules (unknown field or operator, bad values, limits: 422).
    public struct Check: Sendable, Hashable {
        /// The filter, when there is no issue of either kind.
        public var filter: ContactFilter?
        public var typeIssues: [FieldIssue]
        public var ruleIssues: [FieldIssue]
    }

    /// Validates request JSON as `init(validating:path:)` does, sorting the issues by kind.
    public static func check(_ json: FilterJSON, path: String = "") -> Check {
        var validator = ContactFilterValidator(prefix: path)
        let filter = validator.filter(json)
        let ok = validator.issues.isEmpty && validator.typeIssues.isEmpty
        return Check(filter: ok ? filter : nil, typeIssues: validator.typeIssues.issues, ruleIssues: validator.issues.issues)
    }

    public init(from decoder: any Decoder) throws {
        let json = try FilterJSON(from: decoder)
        try self.init(validating: json)
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }

    /// The API JSON form; keys with empty or default values are left out.
    public var json: FilterJSON {
        var object: [String: FilterJSON] = [:]
        func strings(_ values: [String]) -> FilterJSON { .array(values.map(FilterJSON.string)) }
        if !tags.isEmpty { object["tags"] = strings(tags) }
        if tagsLogic != .or { object["tagsLogic"] = .string(tagsLogic.rawValue) }
        if !excludeTags.isEmpty { object["excludeTags"] = strings(excludeTags) }
        if !listIds.isEmpty { object["listIds"] = strings(listIds.map { $0.uuidString.lowercased() }) }
        if !states.isEmpty { object["state"] = strings(states) }
        if !zips.isEmpty { object["zip"] = strings(zips) }
        if !cities.isEmpty { object["city"] = strings(cities) }
        if !conditions.isEmpty {
            object["conditions"] = .array(conditions.map { condition in
                var member: [String: FilterJSON] = [
                    "field": .string(condition.field.path),
                    "op": .string(condition.op.rawValue),
                ]
                if let value = condition.value { member["value"] = value.json }
                return .object(member)
            })
        }
        if conditionsLogic != .and { object["conditionsLogic"] = .string(conditionsLogic.rawValue) }
        return .object(object)
    }
}

extension ContactFilter.Value {
    /// The API JSON form (instants as RFC 3339 UTC with milliseconds).
    public var json: FilterJSON {
        switch self {
        case .string(let value): .string(value)
        case .number(let value): .number(value)
        case .bool(let value): .bool(value)
        case .instant(let ms): .string(ContactFilter.formatInstant(epochMilliseconds: ms))
        case .list(let values): .array(values.map(\.json))
        }
    }

    /// The instant as a `Date`, for `.instant`.
    public var date: Date? {
        guard case .instant(let ms) = self else { return nil }
        return Date(timeIntervalSince1970: Double(ms) / 1000)
    }
}

/// Walks filter JSON collecting every issue: wrong JSON types in `typeIssues`, broken rules in
/// `issues`.
private struct ContactFilterValidator {
    let prefix: String
    var issues = IssueCollector()
    var typeIssues = IssueCollector()

    init(prefix: String) { self.prefix = prefix }

    func key(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    mutating func filter(_ json: FilterJSON) -> ContactFilter {
        var filter = ContactFilter()
        switch json {
        case .null:
            return filter
        case .object:
            break
        default:
            typeIssues.add(prefix.isEmpty ? "filter" : prefix, "must be an object, not \(json.typeName)")
            return filter
        }
        if let value = json["tags"] { filter.tags = tags(value, key: key("tags")) }
        if let value = json["excludeTags"] { filter.excludeTags = tags(value, key: key("excludeTags")) }
        if let value = json["tagsLogic"] { filter.tagsLogic = logic(value, key: key("tagsLogic")) ?? .or }
        if let value = json["conditionsLogic"] {
            filter.conditionsLogic = logic(value, key: key("conditionsLogic")) ?? .and
        }
        if let value = json["listIds"] {
            let items = stringArray(value, key: key("listIds"), limit: ContactFilter.maxListIds)
            var seen = Set<UUID>()
            for (index, item) in items {
                if let id = UUID(uuidString: item) {
                    if seen.insert(id).inserted { filter.listIds.append(id) }
                } else {
                    issues.add("\(key("listIds"))[\(index)]", "must be a UUID")
                }
            }
        }
        filter.states = plainValues(json["state"], key: key("state"), maxLength: ContactFieldRules.maxStateLength)
        filter.zips = plainValues(json["zip"], key: key("zip"), maxLength: ContactFieldRules.maxZipLength)
        filter.cities = plainValues(json["city"], key: key("city"), maxLength: ContactFieldRules.maxCityLength)
        if let value = json["conditions"] {
            let conditionsKey = key("conditions")
            if case .array(let items) = value {
                if items.count > ContactFilter.maxConditions {
                    issues.add(conditionsKey, "must have at most \(ContactFilter.maxConditions) conditions")
                }
                for (index, item) in items.prefix(ContactFilter.maxConditions).enumerated() {
                    if let condition = condition(item, key: "\(conditionsKey)[\(index)]") {
                        filter.conditions.append(condition)
                    }
                }
            } else {
                typeIssues.add(conditionsKey, "must be an array of conditions, not \(value.typeName)")
            }
        }
        let values = filter.valueCount
        if values > ContactFilter.maxTotalValues {
            issues.add(prefix.isEmpty ? "filter" : prefix,
                       "has \(values) values in all; a filter may hold at most \(ContactFilter.maxTotalValues) across tags, excludeTags, listIds, state, zip, city and conditions")
        }
        return filter
    }

    mutating func logic(_ json: FilterJSON, key: String) -> ContactFilter.Logic? {
        guard case .string(let text) = json else {
            typeIssues.add(key, "must be \"AND\" or \"OR\", not \(json.typeName)")
            return nil
        }
        if let logic = ContactFilter.Logic(rawValue: text.uppercased()) { return logic }
        issues.add(key, "must be \"AND\" or \"OR\"")
        return nil
    }

    /// The string members of an array with their indices; reports non-arrays, non-strings and
    /// arrays over `limit`.
    mutating func stringArray(_ json: FilterJSON, key: String, limit: Int) -> [(Int, String)] {
        guard case .array(let items) = json else {
            typeIssues.add(key, "must be an array of strings, not \(json.typeName)")
            return []
        }
        if items.count > limit { issues.add(key, "must have at most \(limit) items") }
        var result: [(Int, String)] = []
        for (index, item) in items.prefix(limit).enumerated() {
            if case .string(let text) = item {
                result.append((index, text))
            } else {
                typeIssues.add("\(key)[\(index)]", "must be a string, not \(item.typeName)")
            }
        }
        return result
    }

    mutating func tags(_ json: FilterJSON, key: String) -> [String] {
        var result: [String] = []
        var seen = Set<String>()
        for (index, text) in stringArray(json, key: key, limit: ContactFilter.maxTags) {
            guard let tag = ContactTags.normalize(text) else {
                issues.add("\(key)[\(index)]", ContactFieldRules.trimmed(text).isEmpty
                    ? "must not be empty" : "must be at most \(ContactTags.maxLength) characters")
                continue
            }
            if seen.insert(tag).inserted { result.append(tag) }
        }
        return result
    }

    mutating func plainValues(_ json: FilterJSON?, key: String, maxLength: Int) -> [String] {
        guard let json else { return [] }
        var result: [String] = []
        for (index, text) in stringArray(json, key: key, limit: ContactFilter.maxListValues) {
            let value = ContactFieldRules.trimmed(text)
            if value.isEmpty {
                issues.add("\(key)[\(index)]", "must not be empty")
            } else if value.count > maxLength {
                issues.add("\(key)[\(index)]", "must be at most \(maxLength) characters")
            } else if !result.contains(value) {
                result.append(value)
            }
        }
        return result
    }

    mutating func condition(_ json: FilterJSON, key: String) -> ContactFilter.Condition? {
        guard case .object = json else {
            typeIssues.add(key, "must be an object with field, op and value, not \(json.typeName)")
            return nil
        }
        var field: ContactField?
        switch json["field"] {
        case nil:
            issues.add("\(key).field", "is required")
        case .string(let path)?:
            field = ContactField(path: path)
            if field == nil {
                issues.add("\(key).field", path.hasPrefix("customFields.")
                    ? "invalid custom field name in \"\(path)\""
                    : "unknown field \"\(path)\"; expected a contact field or customFields.<name>")
            }
        case let other?:
            typeIssues.add("\(key).field", "must be a string, not \(other.typeName)")
        }
        var op: ContactFilter.Operator?
        switch json["op"] {
        case nil:
            issues.add("\(key).op", "is required")
        case .string(let name)?:
            op = ContactFilter.Operator(rawValue: name)
            if op == nil {
                let names = ContactFilter.Operator.allCases.map(\.rawValue).joined(separator: ", ")
                issues.add("\(key).op", "unknown operator \"\(name)\"; expected one of \(names)")
            }
        case let other?:
            typeIssues.add("\(key).op", "must be a string, not \(other.typeName)")
        }
        guard let op else { return nil }
        let kind = field?.kind
        if let kind {
            switch kind {
            case .boolean where ![.eq, .neq, .exists, .notExists].contains(op):
                issues.add("\(key).op", "\(op.rawValue) is not allowed on a boolean field; use eq, neq, exists or notExists")
                return nil
            case .instant where op == .contains || op == .startsWith:
                issues.add("\(key).op", "\(op.rawValue) is not allowed on a date field")
                return nil
            default:
                break
            }
        }
        let valueKey = "\(key).value"
        let raw = json["value"]
        var value: ContactFilter.Value?
        switch op.arity {
        case .none:
            if raw != nil { issues.add(valueKey, "must be absent for \(op.rawValue)") }
        case .list:
            guard let raw else {
                issues.add(valueKey, "is required for \(op.rawValue) (an array)")
                return nil
            }
            guard case .array(let items) = raw else {
                issues.add(valueKey, "must be an array for \(op.rawValue), not \(raw.typeName)")
                return nil
            }
            if items.isEmpty { issues.add(valueKey, "must not be empty") }
            if items.count > ContactFilter.maxListValues {
                issues.add(valueKey, "must have at most \(ContactFilter.maxListValues) values")
            }
            var values: [ContactFilter.Value] = []
            for (index, item) in items.prefix(ContactFilter.maxListValues).enumerated() {
                if let element = scalar(item, kind: kind, op: op, key: "\(valueKey)[\(index)]") {
                    values.append(element)
                }
            }
            value = .list(values)
        case .scalar:
            guard let raw else {
                issues.add(valueKey, "is required for \(op.rawValue)")
                return nil
            }
            value = scalar(raw, kind: kind, op: op, key: valueKey)
            if value == nil { return nil }
        }
        guard let field else { return nil }
        return ContactFilter.Condition(field: field, op: op, value: value)
    }

    /// Checks one scalar value for a field kind (`nil` kind: the field is unknown, only the
    /// JSON shape is checked).
    mutating func scalar(
        _ json: FilterJSON, kind: StandardContactField.Kind?, op: ContactFilter.Operator, key: String
    ) -> ContactFilter.Value? {
        switch json {
        case .object:
            // No operator takes an object (which values an operator takes is a rule: 422).
            typeIssues.add(key, "must be a single value, not \(json.typeName)")
            return nil
        case .array, .null:
            issues.add(key, "must be a single value, not \(json.typeName)")
            return nil
        default:
            break
        }
        guard let kind else { return nil }
        let textOnly = op == .contains || op == .startsWith
        switch (kind, json) {
        case (.boolean, .bool(let flag)):
            return .bool(flag)
        case (.boolean, _):
            issues.add(key, "must be a boolean, not \(json.typeName)")
        case (.instant, .string(let text)):
            if let ms = ContactFilter.parseInstant(text) { return .instant(epochMilliseconds: ms) }
            issues.add(key, "must be an RFC 3339 date-time with an offset (2026-04-20T13:00:00Z)")
        case (.instant, _):
            issues.add(key, "must be an RFC 3339 date-time string, not \(json.typeName)")
        case (.text, .string(let text)), (.custom, .string(let text)):
            if text.count > ContactFilter.maxValueLength {
                issues.add(key, "must be at most \(ContactFilter.maxValueLength) characters")
                return nil
            }
            return .string(text)
        case (.text, _):
            issues.add(key, "must be a string, not \(json.typeName)")
        case (.custom, .number(let number)) where !textOnly:
            return .number(number)
        case (.custom, .bool(let flag)) where !textOnly && !op.isOrdering:
            return .bool(flag)
        case (.custom, _):
            issues.add(key, textOnly ? "must be a string for \(op.rawValue)" : "must be a string or number, not \(json.typeName)")
        }
        return nil
    }
}
