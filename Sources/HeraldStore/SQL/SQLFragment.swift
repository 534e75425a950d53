/// A piece of SQL with its bound values, for building WHERE clauses from parts. Column and
/// operator text always comes from the code's own tables; user input only ever enters as a bind.
public struct SQLFragment: Sendable {
    public var sql: String
    public var binds: [SQLValue]

    public init(_ sql: String, _ binds: [SQLValue] = []) {
        self.sql = sql
        self.binds = binds
    }

    public static let alwaysTrue = SQLFragment("1 = 1")
    public static let alwaysFalse = SQLFragment("1 = 0")

    /// Joins parts with AND/OR, each wrapped in parentheses.
    public static func join(_ parts: [SQLFragment], with op: String) -> SQLFragment {
        if parts.isEmpty { return op == "AND" ? .alwaysTrue : .alwaysFalse }
        if parts.count == 1 { return parts[0] }
        return SQLFragment(parts.map { "(\($0.sql))" }.joined(separator: " \(op) "), parts.flatMap(\.binds))
    }

    /// `?, ?, ?` for `count` binds.
    public static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
