import Foundation
import HeraldCore
import Hummingbird

/// Reads typed fields out of a JSON object body, collecting every type problem (400) instead of
/// stopping at the first. Unknown keys are ignored (API.md §1).
public struct RequestFields {
    public let object: [String: FilterJSON]
    public private(set) var typeIssues: [FieldIssue] = []
    let prefix: String

    public init(object: [String: FilterJSON], prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    /// Decodes a JSON object request body (≤ 1 MiB).
    public static func read(_ request: Request, context: HeraldRequestContext) async throws -> RequestFields {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        return try parse(Data(buffer: buffer))
    }

    public static func parse(_ data: Data) throws -> RequestFields {
        guard !data.isEmpty else { throw APIError.invalidRequest("The request body must be a JSON object.") }
        guard !hasTrailingComma(data) else { throw APIError.invalidRequest("The request body is not valid JSON: a comma ends an object or array.") }
        let value: FilterJSON
        do {
            value = try JSONDecoder().decode(FilterJSON.self, from: data)
        } catch {
            throw APIError.invalidRequest("The request body is not valid JSON.")
        }
        guard case .object(let object) = value else {
            throw APIError.invalidRequest("The request body must be a JSON object.")
        }
        var nulFields: [FieldIssue] = []
        findNUL(value, path: "", into: &nulFields)
        if !nulFields.isEmpty {
            throw APIError.invalidRequest("Text may not contain the NUL character (U+0000).", details: nulFields)
        }
        return RequestFields(object: object)
    }

    /// Foundation's JSON reader accepts a comma before `}` or `]`, which RFC 8259 §4–5 does
    /// not: found outside strings here so that such a body is the 400 it is everywhere else.
    static func hasTrailingComma(_ data: Data) -> Bool {
        var inString = false, escaped = false, afterComma = false
        for byte in data {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "}"), UInt8(ascii: "]"): if afterComma { return true }
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            afterComma = byte == UInt8(ascii: ",")
        }
        return false
    }

    /// Reports every string or key holding U+0000, which no text column can store (PostgreSQL
    /// rejects it outright), as `field.path[i]`.
    static func findNUL(_ value: FilterJSON, path: String, into issues: inout [FieldIssue]) {
        switch value {
        case .string(let s):
            if s.unicodeScalars.contains("\u{0}") { issues.append(FieldIssue(field: path.isEmpty ? "body" : path, message: "must not contain the NUL character")) }
        case .array(let items):
            for (i, item) in items.enumerated() { findNUL(item, path: "\(path)[\(i)]", into: &issues) }
        case .object(let members):
            for (k, v) in members.sorted(by: { $0.key < $1.key }) {
                let child = path.isEmpty ? k : "\(path).\(k)"
                if k.unicodeScalars.contains("\u{0}") { issues.append(FieldIssue(field: child, message: "must not contain the NUL character")) }
                findNUL(v, path: child, into: &issues)
            }
        default:
            break
        }
    }

    func path(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    public func has(_ key: String) -> Bool { object[key] != nil }

    mutating func wrongType(_ key: String, _ expected: String) {
        typeIssues.append(FieldIssue(field: path(key), message: "must be \(expected)"))
    }

    /// A string, or nil when absent or null.
    public mutating func string(_ key: String) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: wrongType(key, "a string"); return nil
        }
    }

    /// A nullable string as an update: absent → unchanged, null or "" → clear.
    public mutating func update(_ key: String) -> FieldUpdate<String> {
        switch object[key] {
        case nil: return .unchanged
        case .null?: return .clear
        case .string(let s)?:
            // The trim of contact fields and import cells, so both paths store the same text.
            let t = ContactFieldRules.trimmed(s)
            return t.isEmpty ? .clear : .set(t)
        default: wrongType(key, "a string or null"); return .unchanged
        }
    }

    public mutating func bool(_ key: String) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: wrongType(key, "true or false"); return nil
        }
    }

    public mutating func number(_ key: String) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let d)?: return d
        default: wrongType(key, "a number"); return nil
        }
    }

    public mutating func integer(_ key: String) -> Int64? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let d)?:
            guard d.rounded() == d, abs(d) < 9e15 else { wrongType(key, "a whole number"); return nil }
            return Int64(d)
        default: wrongType(key, "a whole number"); return nil
        }
    }

    public mutating func strings(_ key: String) -> [String]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let items)?:
            var out: [String] = []
            for (i, item) in items.enumerated() {
                if case .string(let s) = item { out.append(s) } else {
                    typeIssues.append(FieldIssue(field: "\(path(key))[\(i)]", message: "must be a string"))
                }
            }
            return out
        default: wrongType(key, "an array of strings"); return nil
        }
    }

    public mutating func objectValue(_ key: String) -> [String: FilterJSON]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let o)?: return o
        default: wrongType(key, "an object"); return nil
        }
    }

    public func raw(_ key: String) -> FilterJSON? { object[key] }

    /// Adds wrong types found inside a member (a filter's `filter.tags`), reported with the
    /// fields' own.
    public mutating func addTypeIssues(_ issues: [FieldIssue]) {
        typeIssues += issues
    }

    /// Throws 400 `invalid_request` listing every wrong type.
    /// Ends a request's validation: wrong types (400 `invalid_request`) and broken rules (422)
    /// are reported together, so `details` lists every failing field (API.md §1). With any wrong
    /// type it is a 400 listing those fields and every rule the other fields break; else the
    /// rules' 422.
    public func finish(_ issues: IssueCollector) throws {
        try Self.finish(typeIssues: typeIssues, issues)
    }

    /// `finish(_:)` for type issues found another way (a decoded body's nested filter).
    public static func finish(typeIssues: [FieldIssue], _ issues: IssueCollector) throws {
        if !typeIssues.isEmpty {
            let typed = Set(typeIssues.map(\.field))
            throw APIError.invalidRequest("Some fields have the wrong type.", details: typeIssues + issues.issues.filter { !typed.contains($0.field) })
        }
        try issues.throwIfAny()
    }

    public func throwIfTypeIssues() throws {
        if !typeIssues.isEmpty {
            throw APIError.invalidRequest("Some fields have the wrong type.", details: typeIssues)
        }
    }
}

/// Query-string helpers that report bad values as 400 `invalid_request` on the parameter.
public struct QueryParameters {
    let request: Request
    public private(set) var issues: [FieldIssue] = []

    public init(_ request: Request) {
        self.request = request
        // U+0000 cannot be stored or compared in a text column (PostgreSQL rejects it): a 400.
        for (name, value) in request.uri.queryParameters where value.unicodeScalars.contains("\u{0}") || name.unicodeScalars.contains("\u{0}") {
            issues.append(FieldIssue(field: String(name), message: "must not contain the NUL character"))
        }
    }

    public func string(_ name: String) -> String? {
        request.uri.queryParameters[name[...]].map { String($0) }
    }

    public mutating func bool(_ name: String) -> Bool? {
        guard let s = string(name) else { return nil }
        switch s.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: issues.append(FieldIssue(field: name, message: "must be true or false")); return nil
        }
    }

    /// A comma list; more than `max` values is a 400 on the parameter (a long list costs the
    /// database work, and a count over many tags grows with their square).
    public mutating func list(_ name: String, max: Int = ContactFilter.maxTags) -> [String] {
        guard let s = string(name) else { return [] }
        let values = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard values.count <= max else {
            issues.append(FieldIssue(field: name, message: "must list at most \(max) values"))
            return []
        }
        return values
    }

    public mutating func limit(default value: Int = 50, max: Int = 200) -> Int {
        guard let s = string("limit") else { return value }
        guard let n = Int(s), n >= 1, n <= max else {
            issues.append(FieldIssue(field: "limit", message: "must be a whole number from 1 to \(max)"))
            return value
        }
        return n
    }

    public mutating func cursor() -> KeysetCursor? {
        guard let s = string("cursor"), !s.isEmpty else { return nil }
        guard let c = KeysetCursor(encoded: s, list: request.cursorList) else {
            issues.append(FieldIssue(field: "cursor", message: "is not a cursor this server issued"))
            return nil
        }
        return c
    }

    public mutating func oneOf(_ name: String, _ allowed: [String]) -> String? {
        guard let s = string(name) else { return nil }
        guard allowed.contains(s) else {
            issues.append(FieldIssue(field: name, message: "must be one of \(allowed.joined(separator: ", "))"))
            return nil
        }
        return s
    }

    public func throwIfIssues() throws {
        if !issues.isEmpty { throw APIError.invalidRequest("Some query parameters are invalid.", details: issues) }
    }
}

extension KeysetCursor {
    /// The internal key of a cursor built over integer keys.
    var intKey: Int64? {
        if case .int64(let k) = id { return k }
        return nil
    }
}

extension Request {
    /// What a cursor of this request's list is bound to (`KeysetCursor`): the path (which names
    /// the list, and the list or segment of a member list) and the sort, so a cursor of another
    /// list or order is a 400 instead of a page from the wrong place.
    var cursorList: String {
        uri.path + "?sort=" + (uri.queryParameters.get("sort") ?? "")
    }
}
