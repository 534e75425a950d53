import Foundation
import HeraldCore

/// Compiles the contact filter language (API.md §3) to a WHERE fragment over `contacts c`.
/// Column names come from the fixed table below; every user value is a bind.
public enum ContactFilterSQL {
    static func column(_ field: StandardContactField) -> String {
        switch field {
        case .phone: "c.phone"
        case .firstName: "c.first_name"
        case .lastName: "c.last_name"
        case .email: "c.email"
        case .city: "c.city"
        case .state: "c.state"
        case .zip: "c.zip"
        case .timezone: "c.timezone"
        case .isOptedIn: "c.opted_out_at"
        case .optedOutAt: "c.opted_out_at"
        case .isTextable: "c.is_textable"
        case .createdAt: "c.created_at"
        case .updatedAt: "c.updated_at"
        }
    }

    public static func compile(_ filter: ContactFilter, dialect: SQLDialect) -> SQLFragment {
        // A contradiction in the tag parts matches nothing, whatever the rest says.
        if filter.tagsMatchNoContact { return .alwaysFalse }
        var parts: [SQLFragment] = []
        // Tag rows always carry their contact's organization, so the (contact_id, tag) primary key
        // alone answers each probe.
        let tagExists = "EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag"
        if !filter.tags.isEmpty {
            if filter.tagsLogic == .and {
                for tag in filter.tags { parts.append(SQLFragment("\(tagExists) = ?)", [.text(tag)])) }
            } else {
                // Tags that are also excluded cannot make a contact match (`effectiveTags`).
                let tags = filter.effectiveTags
                parts.append(SQLFragment("\(tagExists) IN (\(SQLFragment.placeholders(tags.count))))", tags.map { .text($0) }))
            }
        }
        if !filter.excludeTags.isEmpty {
            parts.append(SQLFragment("NOT \(tagExists) IN (\(SQLFragment.placeholders(filter.excludeTags.count))))", filter.excludeTags.map { .text($0) }))
        }
        if !filter.listIds.isEmpty {
            parts.append(SQLFragment(
                "EXISTS (SELECT 1 FROM list_members m JOIN lists l ON l.id = m.list_id WHERE m.contact_id = c.id AND l.org_id = c.org_id AND l.uuid IN (\(SQLFragment.placeholders(filter.listIds.count))))",
                filter.listIds.map { .text($0.uuidString.lowercased()) }))
        }
        // States and zips are ASCII codes, matched through the (org_id, UPPER(state)) index;
        // cities are names in any script.
        for (values, column) in [(filter.states, "c.state"), (filter.zips, "c.zip")] where !values.isEmpty {
            parts.append(SQLFragment("UPPER(\(column)) IN (\(SQLFragment.placeholders(values.count)))", values.map { .text($0.uppercased()) }))
        }
        if !filter.cities.isEmpty {
            parts.append(SQLFragment("\(dialect.folded("c.city")) IN (\(dialect.foldedPlaceholders(filter.cities.count)))", filter.cities.map { .text($0) }))
        }
        if !filter.conditions.isEmpty {
            let conditions = filter.conditions.map { condition($0, dialect: dialect) }
            parts.append(SQLFragment.join(conditions, with: filter.conditionsLogic == .and ? "AND" : "OR"))
        }
        return SQLFragment.join(parts, with: "AND")
    }

    /// The text form of a value, as custom fields store it.
    public static func text(_ v: ContactFilter.Value) -> String {
        switch v {
        case .string(let s): return s
        case .number(let d): return FilterJSON.text(ofNumber: d)
        case .bool(let b): return b ? "true" : "false"
        case .instant(let ms): return ContactFilter.formatInstant(epochMilliseconds: ms)
        case .list(let l): return l.map(text).joined(separator: ",")
        }
    }

    public static func likePattern(_ s: String, prefix: Bool) -> String {
        let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return prefix ? escaped + "%" : "%" + escaped + "%"
    }

    static func condition(_ cond: ContactFilter.Condition, dialect: SQLDialect) -> SQLFragment {
        switch cond.field {
        case .standard(let field):
            switch field.kind {
            case .boolean:
                let truth: Bool
                if case .bool(let b)? = cond.value { truth = b } else { truth = true }
                let isTrue = field == .isOptedIn ? "c.opted_out_at IS NULL" : "c.is_textable = 1"
                let isFalse = field == .isOptedIn ? "c.opted_out_at IS NOT NULL" : "c.is_textable = 0"
                switch cond.op {
                case .eq: return SQLFragment(truth ? isTrue : isFalse)
                case .neq: return SQLFragment(truth ? isFalse : isTrue)
                case .exists: return .alwaysTrue
                case .notExists: return .alwaysFalse
                default: return .alwaysFalse
                }
            case .instant:
                return instantCondition(column(field), cond)
            case .text, .custom:
                return textCondition(SQLFragment(column(field)), cond, dialect: dialect, numeric: false)
            }
        case .custom(let name):
            let expr = SQLFragment(dialect.jsonText(column: "c.custom_fields"), [dialect.jsonKeyBind(name)])
            if let instants = instantValues(cond) {
                return instantTextCondition(expr, cond.op, instants, dialect: dialect)
            }
            var numeric = false
            if case .number? = cond.value, cond.op.isOrdering { numeric = true }
            return textCondition(expr, cond, dialect: dialect, numeric: numeric)
        }
    }

    static func instantCondition(_ col: String, _ cond: ContactFilter.Condition) -> SQLFragment {
        func ms(_ v: ContactFilter.Value) -> SQLValue {
            if case .instant(let m) = v { return .int(m) }
            if case .number(let d) = v { return .int(Int64(d)) }
            return .null
        }
        switch cond.op {
        case .exists: return SQLFragment("\(col) IS NOT NULL")
        case .notExists: return SQLFragment("\(col) IS NULL")
        case .in, .notIn:
            guard case .list(let values)? = cond.value, !values.isEmpty else { return cond.op == .in ? .alwaysFalse : .alwaysTrue }
            let sql = "\(col) \(cond.op == .in ? "IN" : "NOT IN") (\(SQLFragment.placeholders(values.count)))"
            return SQLFragment(cond.op == .notIn ? "(\(col) IS NULL OR \(sql))" : sql, values.map(ms))
        default:
            guard let v = cond.value else { return .alwaysFalse }
            let op: String
            switch cond.op {
            case .eq: op = "="
            case .neq: return SQLFragment("(\(col) IS NULL OR \(col) <> ?)", [ms(v)])
            case .gt: op = ">"
            case .gte: op = ">="
            case .lt: op = "<"
            case .lte: op = "<="
            default: return .alwaysFalse
            }
            return SQLFragment("\(col) \(op) ?", [ms(v)])
        }
    }

    /// A text value read as an instant in epoch milliseconds, NULL when it is not an RFC 3339
    /// date-time (`YYYY-MM-DD[T ]hh:mm…`; without an offset it is read as UTC).
    static func instantOf(_ expr: SQLFragment, dialect: SQLDialect) -> SQLFragment {
        switch dialect {
        case .sqlite:
            // The GLOB keeps julianday() from reading a bare number as a Julian day; UPPER makes
            // the `t`/`z` that RFC 3339 allows readable by SQLite's date functions.
            let e = expr.sql
            return SQLFragment(
                "(CASE WHEN \(e) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][Tt ][0-9][0-9]:[0-9][0-9]*' THEN CAST(ROUND((julianday(UPPER(\(e))) - 2440587.5) * 86400000.0) AS INTEGER) END)",
                expr.binds + expr.binds)
        case .postgres:
            return SQLFragment("herald_instant_ms(\(expr.sql))", expr.binds)
        }
    }

    /// The condition's value(s) as instants when the custom field is compared with date-times:
    /// an ordering, `eq` or `neq` with a date-time string, or `in`/`notIn` with only date-time
    /// strings. Nil otherwise (the comparison is on text or numbers).
    static func instantValues(_ cond: ContactFilter.Condition) -> [Int64]? {
        switch (cond.op, cond.value) {
        case (.gt, .string(let s)?), (.gte, .string(let s)?), (.lt, .string(let s)?), (.lte, .string(let s)?),
             (.eq, .string(let s)?), (.neq, .string(let s)?):
            return ContactFilter.parseInstant(s).map { [$0] }
        case (.in, .list(let values)?), (.notIn, .list(let values)?):
            let instants = values.compactMap { v -> Int64? in if case .string(let s) = v { ContactFilter.parseInstant(s) } else { nil } }
            return !values.isEmpty && instants.count == values.count ? instants : nil
        default:
            return nil
        }
    }

    /// A comparison of a custom field against instants: the stored text is read as an instant,
    /// whatever its offset (API.md §3: dates compare as instants), so `…T05:04:05+02:00` equals
    /// `…T03:04:05Z`. A value that is not a date-time never matches `eq`, `in` or an ordering,
    /// and always matches `neq` and `notIn`.
    static func instantTextCondition(_ expr: SQLFragment, _ op: ContactFilter.Operator, _ instants: [Int64], dialect: SQLDialect) -> SQLFragment {
        let instant = instantOf(expr, dialect: dialect)
        let binds = instants.map { SQLValue.int($0) }
        switch op {
        case .neq: return SQLFragment("(\(instant.sql) IS NULL OR \(instant.sql) <> ?)", instant.binds + instant.binds + binds)
        case .in: return SQLFragment("\(instant.sql) IN (\(SQLFragment.placeholders(binds.count)))", instant.binds + binds)
        case .notIn: return SQLFragment("(\(instant.sql) IS NULL OR \(instant.sql) NOT IN (\(SQLFragment.placeholders(binds.count))))", instant.binds + instant.binds + binds)
        default:
            let sqlOp = [ContactFilter.Operator.gt: ">", .gte: ">=", .lt: "<", .lte: "<="][op] ?? "="
            return SQLFragment("\(instant.sql) \(sqlOp) ?", instant.binds + binds)
        }
    }

    /// Text comparisons are case-insensitive in every script (`TextFolding`); ordering on a number
    /// compares numerically, and values that are not numbers by `CustomFieldNumber` never match.
    static func textCondition(_ expr: SQLFragment, _ cond: ContactFilter.Condition, dialect: SQLDialect, numeric: Bool) -> SQLFragment {
        let e = expr.sql
        let eb = expr.binds
        switch cond.op {
        case .exists: return SQLFragment("(\(e) IS NOT NULL AND \(e) <> '')", eb + eb)
        case .notExists: return SQLFragment("(\(e) IS NULL OR \(e) = '')", eb + eb)
        case .in, .notIn:
            guard case .list(let values)? = cond.value, !values.isEmpty else { return cond.op == .in ? .alwaysFalse : .alwaysTrue }
            let list = "\(dialect.folded(e)) IN (\(dialect.foldedPlaceholders(values.count)))"
            let binds = values.map { SQLValue.text(text($0)) }
            if cond.op == .in { return SQLFragment(list, eb + binds) }
            return SQLFragment("(\(e) IS NULL OR NOT \(list))", eb + eb + binds)
        case .contains, .startsWith:
            guard let v = cond.value else { return .alwaysFalse }
            return dialect.foldedLike(expr, pattern: likePattern(text(v), prefix: cond.op == .startsWith))
        case .eq:
            guard let v = cond.value else { return .alwaysFalse }
            return SQLFragment("\(dialect.folded(e)) = \(dialect.folded("?"))", eb + [.text(text(v))])
        case .neq:
            guard let v = cond.value else { return .alwaysFalse }
            return SQLFragment("(\(e) IS NULL OR \(dialect.folded(e)) <> \(dialect.folded("?")))", eb + eb + [.text(text(v))])
        case .gt, .gte, .lt, .lte:
            guard let v = cond.value else { return .alwaysFalse }
            let op = [ContactFilter.Operator.gt: ">", .gte: ">=", .lt: "<", .lte: "<="][cond.op] ?? "="
            if numeric, case .number(let d) = v {
                let bound = SQLValue.double(d.isFinite ? d : (d > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude))
                switch dialect {
                case .sqlite:
                    return SQLFragment("herald_number(\(e)) \(op) ?", eb + [bound])
                case .postgres:
                    // `numeric`, not `double precision`: a stored 1e400 is a number too, and
                    // would overflow the cast.
                    let pattern = CustomFieldNumber.postgresPattern
                    return SQLFragment("(CASE WHEN \(e) ~ '\(pattern)' THEN CAST(\(e) AS numeric) END) \(op) CAST(? AS numeric)", eb + eb + [bound])
                }
            }
            return SQLFragment("\(e) \(op) ?", eb + [.text(text(v))])
        }
    }
}
