/// When a custom field's text counts as a number for the ordering conditions (`gt`, `gte`,
/// `lt`, `lte` with a number value, API.md §3): an optional sign, digits with an optional
/// fraction (or a fraction alone), and an optional exponent of at most four digits. Anything
/// else (`2024-01-02…`, `0x10`, `1_000`, ` 5`, `1e400000`) is not a number and never matches.
/// Both engines apply this one grammar: SQLite through the SQL function `herald_number`,
/// PostgreSQL through `postgresPattern` before it casts to `numeric`.
public enum CustomFieldNumber {
    /// The grammar as a POSIX regular expression (PostgreSQL's `~`).
    public static let postgresPattern = "^[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]{1,4})?$"

    /// The value of `text` when it is a number by the grammar above, else nil. Beyond
    /// `Double`'s range it is ±infinity (or zero), where PostgreSQL's `numeric` keeps the exact
    /// value: the two engines order such values alike against any finite filter value.
    public static func value(_ text: String) -> Double? {
        var utf8 = text.utf8[...]
        guard isNumber(&utf8) else { return nil }
        return Double(text)
    }

    /// The grammar, over UTF-8.
    static func isNumber(_ s: inout Substring.UTF8View) -> Bool {
        func digits() -> Int {
            var n = 0
            while let b = s.first, b >= 0x30 && b <= 0x39 { s.removeFirst(); n += 1 }
            return n
        }
        if let b = s.first, b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { s.removeFirst() }
        let whole = digits()
        var fraction = 0
        if s.first == UInt8(ascii: ".") {
            s.removeFirst()
            fraction = digits()
            if whole == 0 && fraction == 0 { return false }
        } else if whole == 0 {
            return false
        }
        if let b = s.first, b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
            s.removeFirst()
            if let b = s.first, b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { s.removeFirst() }
            let exponent = digits()
            if exponent < 1 || exponent > 4 { return false }
        }
        return s.isEmpty
    }
}
