/// A value bound to, or read from, a SQL statement. The same type serves SQLite and PostgreSQL so
/// that every store is written once.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension SQLValue {
    public static func optional(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    public static func optional(_ i: Int64?) -> SQLValue { i.map { .int($0) } ?? .null }
    public static func bool(_ b: Bool) -> SQLValue { .int(b ? 1 : 0) }
}

/// One result row, read by column index.
public struct SQLRow: Sendable {
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }

    public subscript(_ i: Int) -> SQLValue { values[i] }

    public func int(_ i: Int) -> Int64 {
        switch values[i] {
        case .int(let v): return v
        case .double(let d): return Int64(d)
        case .text(let s): return Int64(s) ?? 0
        default: return 0
        }
    }

    public func optionalInt(_ i: Int) -> Int64? {
        if case .null = values[i] { return nil }
        return int(i)
    }

    public func double(_ i: Int) -> Double {
        switch values[i] {
        case .int(let v): return Double(v)
        case .double(let d): return d
        case .text(let s): return Double(s) ?? 0
        default: return 0
        }
    }

    public func bool(_ i: Int) -> Bool { int(i) != 0 }

    public func text(_ i: Int) -> String {
        switch values[i] {
        case .text(let s): return s
        case .int(let v): return String(v)
        case .double(let d): return String(d)
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        case .null: return ""
        }
    }

    public func optionalText(_ i: Int) -> String? {
        if case .null = values[i] { return nil }
        return text(i)
    }
}
