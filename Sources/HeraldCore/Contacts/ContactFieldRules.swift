/// Validation rules for contact fields (API.md §3), shared by `POST /api/contacts`, `PATCH`
/// and the CSV import. Each `validate…` function reports `FieldIssue`s under the request's JSON
/// key (`email`, `customFields.team`) and returns the cleaned value.
public enum ContactFieldRules {
    public static let maxEmailLength = 254
    public static let maxNameLength = 100
    public static let maxCityLength = 100
    public static let maxStateLength = 50
    public static let maxZipLength = 20
    public static let maxTimezoneLength = 64
    public static let maxCustomFieldNameLength = 64
    public static let maxCustomFieldValueLength = 1000

    /// `value` without leading and trailing whitespace and newlines.
    public static func trimmed<S: StringProtocol>(_ value: S) -> String {
        let text = String(value)
        // ASCII fast path: a printable, non-space first and last byte means nothing to trim
        // (Unicode whitespace outside ASCII starts with a byte >= 0x80).
        if let first = text.utf8.first, let last = text.utf8.last,
           (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) {
            return text
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
        return String(Substring(scalars[first...last]))
    }

    /// Lenient email shape check: exactly one `@`, a non-empty local part, a domain with a dot
    /// that neither starts nor ends with it, no whitespace, at most 254 characters (RFC 5321
    /// §4.5.3.1.3 path limit). Deliverability is not checked.
    public static func isPlausibleEmail<S: StringProtocol>(_ value: S) -> Bool {
        // One pass over the UTF-8 bytes (the import checks every row's email: the Character
        // view's grapheme breaking cost as much as the rest of a row's parsing). The structural
        // characters `@` and `.` are ASCII, so bytes are exact for them; whitespace is space and
        // \t \n \v \f \r in ASCII, and only text with bytes >= 0x80 needs the Unicode lookup.
        var length = 0
        var at = -1
        var ascii = true
        var domainHasDot = false
        var domainFirst: UInt8 = 0
        var domainLast: UInt8 = 0
        for byte in value.utf8 {
            if byte >= 0x80 {
                ascii = false
            } else if byte == 0x20 || (0x09...0x0D).contains(byte) {
                return false
            }
            if byte == 0x40 {
                guard at < 0 else { return false }   // a second `@`
                at = length
            } else if at >= 0 {
                if length == at + 1 { domainFirst = byte }
                domainLast = byte
                if byte == 0x2E { domainHasDot = true }
            }
            length += 1
            if length > maxEmailLength { return false }
        }
        guard at > 0, at < length - 1, domainHasDot, domainFirst != 0x2E, domainLast != 0x2E else { return false }
        if !ascii {
            guard !value.unicodeScalars.contains(where: { $0.properties.isWhitespace }) else { return false }
        }
        return true
    }

    /// Trims and checks an email; an empty value means "no email" and returns `nil` silently.
    public static func validateEmail(_ value: String, field: String = "email", into issues: inout IssueCollector) -> String? {
        let email = trimmed(value)
        if email.isEmpty { return nil }
        guard isPlausibleEmail(email) else {
            issues.add(field, email.utf8.count > maxEmailLength
                ? "must be at most \(maxEmailLength) characters" : "is not a valid email address")
            return nil
        }
        return email
    }

    /// Trims and checks a text field against a length limit (in characters); an empty value
    /// returns `nil` silently.
    public static func validateText(_ value: String, field: String, maxLength: Int, into issues: inout IssueCollector) -> String? {
        let text = trimmed(value)
        if text.isEmpty { return nil }
        guard text.count <= maxLength else {
            issues.add(field, "must be at most \(maxLength) characters")
            return nil
        }
        return text
    }

    /// `firstName` / `lastName`: at most 100 characters.
    public static func validateName(_ value: String, field: String, into issues: inout IssueCollector) -> String? {
        validateText(value, field: field, maxLength: maxNameLength, into: &issues)
    }

    /// `state`: at most 50 characters.
    public static func validateState(_ value: String, field: String = "state", into issues: inout IssueCollector) -> String? {
        validateText(value, field: field, maxLength: maxStateLength, into: &issues)
    }

    /// `zip`: at most 20 characters.
    public static func validateZip(_ value: String, field: String = "zip", into issues: inout IssueCollector) -> String? {
        validateText(value, field: field, maxLength: maxZipLength, into: &issues)
    }

    /// `city`: at most 100 characters.
    public static func validateCity(_ value: String, field: String = "city", into issues: inout IssueCollector) -> String? {
        validateText(value, field: field, maxLength: maxCityLength, into: &issues)
    }

    /// A custom field name: 1–64 characters, ASCII letters, digits and `_`, starting with a
    /// letter.
    public static func isValidCustomFieldName<S: StringProtocol>(_ name: S) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, bytes.count <= maxCustomFieldNameLength else { return false }
        guard isASCIILetter(first) else { return false }
        return bytes.allSatisfy { isASCIILetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") }
    }

    /// A name lowercased without spaces, `_`, `-` and `.`: how import headers are matched to
    /// fields, and how custom field names are compared with the reserved ones.
    public static func looseKey<S: StringProtocol>(_ name: S) -> String {
        String(trimmed(name).lowercased().unicodeScalars.filter { !" _-.".unicodeScalars.contains($0) })
    }

    /// Whether a custom field may not take `name`: a header an import reads as a contact field
    /// (`ContactImportField.standard(forHeader:)`, so `phone`, `first_name`, `Email Address`…)
    /// or as a column of the contact export it ignores (`createdAt`, …). Such a custom field
    /// would be ambiguous as a merge field (`{{phone}}`), could never be imported, and would give
    /// the export two columns of one name. A `null` may still remove one stored before the rule.
    public static func isReservedCustomFieldName<S: StringProtocol>(_ name: S) -> Bool {
        let header = String(name)
        return ContactImportField.standard(forHeader: header) != nil || ContactImportField.isExportOnly(header)
    }

    /// Describes why `name` is not a valid custom field name, or `nil` when it is.
    public static func customFieldNameProblem<S: StringProtocol>(_ name: S) -> String? {
        if name.isEmpty { return "custom field name must not be empty" }
        if name.utf8.count > maxCustomFieldNameLength {
            return "custom field name must be at most \(maxCustomFieldNameLength) characters"
        }
        if isValidCustomFieldName(name) { return nil }
        return "custom field name must start with a letter and contain only letters, digits and _"
    }

    /// Checks a `customFields` object: every name valid, every value at most 1000 characters.
    /// Issues are reported as `field.<name>`. Returns the valid entries.
    public static func validateCustomFields(
        _ fields: [String: String],
        field: String = "customFields",
        into issues: inout IssueCollector
    ) -> [String: String] {
        var valid: [String: String] = [:]
        for name in fields.keys.sorted() {
            let value = fields[name]!
            if let problem = customFieldNameProblem(name) {
                issues.add("\(field).\(name)", problem)
            } else if value.count > maxCustomFieldValueLength {
                issues.add("\(field).\(name)", "must be at most \(maxCustomFieldValueLength) characters")
            } else {
                valid[name] = value
            }
        }
        return valid
    }

    /// Parses an opt-out cell: `true/false`, `yes/no`, `y/n`, `1/0`, case-insensitive and
    /// trimmed. `nil` for anything else (including empty).
    public static func parseBoolean<S: StringProtocol>(_ value: S) -> Bool? {
        switch trimmed(value).lowercased() {
        case "true", "yes", "y", "1": return true
        case "false", "no", "n", "0": return false
        default: return nil
        }
    }

    @inline(__always)
    static func isASCIILetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
