import Foundation

/// The contact field an import column feeds (API.md §3, `POST /api/contacts/import`).
public enum ContactImportField: Sendable, Hashable {
    case phone, firstName, lastName, email, city, state, zip, timezone, tags, optedOut
    /// A custom field, named after the column header (trimmed, as written).
    case custom(String)

    /// The JSON key used for this field in issues (`email`, `customFields.team`).
    public var jsonKey: String {
        switch self {
        case .phone: "phone"
        case .firstName: "firstName"
        case .lastName: "lastName"
        case .email: "email"
        case .city: "city"
        case .state: "state"
        case .zip: "zip"
        case .timezone: "timezone"
        case .tags: "tags"
        case .optedOut: "optedOut"
        case .custom(let name): "customFields.\(name)"
        }
    }

    /// The standard field a header names, or `nil`. Matched case-insensitively and ignoring
    /// spaces, `_`, `-` and `.` (so `First Name`, `first_name` and `FIRST-NAME` are all
    /// `firstName`): API.md §3's names, plus the spellings spreadsheets and CRMs commonly
    /// export (`Email Address`, `Mobile Phone`, `Zip Code`, `Surname`, …).
    public static func standard(forHeader header: String) -> ContactImportField? {
        switch ContactFieldRules.looseKey(header) {
        case "phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "cell", "cellphone", "cellnumber": .phone
        case "firstname", "givenname": .firstName
        case "lastname", "surname", "familyname": .lastName
        case "email", "emailaddress": .email
        case "city": .city
        case "state": .state
        case "zip", "zipcode", "postalcode", "postcode": .zip
        case "timezone": .timezone
        case "tags": .tags
        case "optedout": .optedOut
        default: nil
        }
    }

    /// Columns of Herald's own contact export that hold values an import cannot set (they are
    /// derived or kept by Herald), ignored so that an export imports back as it was.
    static let exportOnlyKeys: Set<String> = ["contactid", "optedoutat", "istextable", "isoptedin", "createdat", "updatedat"]

    /// Whether a header is one of those columns.
    static func isExportOnly(_ header: String) -> Bool { exportOnlyKeys.contains(ContactFieldRules.looseKey(header)) }

    /// The custom field name a header becomes: the header itself when it is a valid name
    /// (`ContactFieldRules.isValidCustomFieldName`); else accents dropped, every run of other
    /// characters turned into one `_`, `_` trimmed from both ends, `field_` put before a leading
    /// digit and the result cut to the longest name allowed (`Date of Birth` → `Date_of_Birth`,
    /// `2024 spend` → `field_2024_spend`). A header with no Latin letter or digit is first
    /// transliterated to Latin (ICU's `Any-Latin; Latin-ASCII`: `名前` → `ming_qian`, `Имя` →
    /// `Ima`, `Ελληνικά` → `Ellenika`), so it is importable and usable as a merge field and in
    /// filters like any other. `nil` when nothing usable is left (a header of only symbols).
    public static func customName(forHeader header: String) -> String? {
        let trimmed = ContactFieldRules.trimmed(header)
        if ContactFieldRules.isValidCustomFieldName(trimmed) { return trimmed }
        let folded = trimmed.folding(options: [.diacriticInsensitive, .widthInsensitive], locale: nil)
            .replacingOccurrences(of: "ß", with: "ss")
        if let name = asciiName(folded) { return name }
        guard let latin = trimmed.applyingTransform(StringTransform("Any-Latin; Latin-ASCII"), reverse: false) else { return nil }
        return asciiName(latin)
    }

    /// The runs of ASCII letters and digits of `text` joined by `_`, `field_` before a leading
    /// digit, cut to the longest name allowed; `nil` when there is none.
    private static func asciiName(_ text: String) -> String? {
        var out = ""
        var pendingSeparator = false
        for scalar in text.unicodeScalars {
            let v = scalar.value
            let ok = (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39)
            if ok {
                if pendingSeparator && !out.isEmpty { out.append("_") }
                pendingSeparator = false
                out.unicodeScalars.append(scalar)
            } else {
                pendingSeparator = true
            }
        }
        guard let first = out.unicodeScalars.first else { return nil }
        if first.value >= 0x30 && first.value <= 0x39 { out = "field_" + out }
        let name = String(out.prefix(ContactFieldRules.maxCustomFieldNameLength))
        return ContactFieldRules.isValidCustomFieldName(name) ? name : nil
    }
}

/// One data row of an import, decoded through a `ContactImportHeader`. Cells are trimmed and
/// lose the export's formula escape (`ContactImportHeader.value(ofCell:)`); an empty cell is
/// `nil` (the field is not given, so a merge leaves it alone).
public struct ContactImportRow: Sendable, Hashable {
    /// Spreadsheet row number (header = 1), for the import's `errors[].row`.
    public var rowNumber: Int
    /// The phone as written; normalizing it to E.164 is the importer's job.
    public var phone: String
    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var city: String?
    public var state: String?
    public var zip: String?
    public var timezone: String?
    /// Normalized (trimmed, lowercased, de-duplicated) tags.
    public var tags: [String]
    public var optedOut: Bool?
    public var customFields: [String: String]

    public init(rowNumber: Int, phone: String) {
        self.rowNumber = rowNumber
        self.phone = phone
        self.tags = []
        self.customFields = [:]
    }
}

/// Maps the header record of a contact import to fields once, so each data row is decoded by
/// indexing (API.md §3).
///
/// Header names are trimmed and matched case-insensitively, ignoring spaces, `_`, `-` and `.`
/// (`ContactImportField.standard(forHeader:)`): `phone|phoneNumber|mobile`,
/// `firstName|first_name`, `lastName|last_name`, `email`, `city`, `state`,
/// `zip|postalCode`, `timezone`, `tags`, `optedOut`, and common spreadsheet spellings of them.
/// Any other non-empty header is a custom field named after the header
/// (`ContactImportField.customName(forHeader:)`: as written when it is a valid name, else made
/// into one), unless that name is reserved (`ContactFieldRules.isReservedCustomFieldName`). The
/// read-only columns of Herald's own export (`contactId`, `optedOutAt`, `isTextable`,
/// `isOptedIn`, `createdAt`, `updatedAt`) and columns with an empty header are ignored.
///
/// Whole-import errors (thrown as one `ValidationError` listing all of them): no phone column,
/// a standard field given by two columns, two custom columns with the same name, a header that
/// cannot be made into a custom field name. Issues are reported on `header[i]` (0-based column
/// index).
public struct ContactImportHeader: Sendable, Hashable {
    /// The field of each column; `nil` for an ignored column.
    public let columns: [ContactImportField?]
    /// The column holding the phone.
    public let phoneColumn: Int

    public init(names: [String]) throws(ValidationError) {
        var issues = IssueCollector()
        var columns: [ContactImportField?] = []
        // The first column of each field, and its header as written.
        var standardSeen: [ContactImportField: (index: Int, name: String)] = [:]
        var customSeen: [String: (index: Int, name: String)] = [:]
        func duplicate(_ name: String, of earlier: (index: Int, name: String), _ field: String) -> String {
            "\"\(Self.quoted(name))\" names the same field as \"\(Self.quoted(earlier.name))\" (header[\(earlier.index)]): \(field)"
        }
        for (index, raw) in names.enumerated() {
            let name = ContactFieldRules.trimmed(raw)
            let path = "header[\(index)]"
            if name.isEmpty || ContactImportField.isExportOnly(name) {
                columns.append(nil)
            } else if let field = ContactImportField.standard(forHeader: name) {
                if let earlier = standardSeen[field] {
                    issues.add(path, duplicate(name, of: earlier, "the contact field \(field.jsonKey)"))
                } else {
                    standardSeen[field] = (index, name)
                }
                columns.append(field)
            } else if let custom = ContactImportField.customName(forHeader: name) {
                if ContactFieldRules.isReservedCustomFieldName(custom) {
                    issues.add(path, "column \"\(Self.quoted(name))\" would be the custom field \(custom), which is the name of a contact field")
                } else if let earlier = customSeen[custom] {
                    issues.add(path, duplicate(name, of: earlier, "the custom field \(custom)"))
                } else {
                    customSeen[custom] = (index, name)
                }
                columns.append(.custom(custom))
            } else {
                issues.add(path, "column \"\(Self.quoted(name))\" cannot be a custom field name: it has no letters or digits")
                columns.append(nil)
            }
        }
        if standardSeen[.phone] == nil {
            issues.add("header", "a phone column is required (phone, phoneNumber or mobile)")
        }
        try issues.throwIfAny()
        self.columns = columns
        self.phoneColumn = standardSeen[.phone]!.index
    }

    /// A header as quoted in an issue: at most 40 characters.
    static func quoted(_ name: String) -> String {
        name.count > 40 ? String(name.prefix(40)) + "…" : name
    }

    /// Maps a header record read by `CSVReader`.
    public init(record: CSVRecord) throws(ValidationError) {
        if let problem = record.problem {
            throw ValidationError(field: "header", message: "the header row cannot be read: \(problem)")
        }
        try self.init(names: record.strings)
    }

    /// Number of columns the header declares.
    public var columnCount: Int { columns.count }

    /// The column of a field, if the header has it.
    public func column(of field: ContactImportField) -> Int? {
        columns.firstIndex(of: field)
    }

    /// Decodes one data row. Reports the record's read problem, a field count that differs
    /// from the header, an empty phone, a bad `optedOut` value and field rule violations
    /// (`ContactFieldRules`, `ContactTags`); each issue's `field` is the JSON key.
    public func decode(_ record: CSVRecord) -> Result<ContactImportRow, ValidationError> {
        var issues = IssueCollector()
        switch record.problem {
        case .fieldTooLarge(let index)?:
            issues.add(fieldKey(index), "field is larger than the limit")
            return .failure(ValidationError(issues.issues))
        case .recordTooLarge?, .tooManyFields?:
            issues.add("row", "row is larger than the limit")
            return .failure(ValidationError(issues.issues))
        case .invalidUTF8(let index)?:
            issues.add(fieldKey(index), "is not valid UTF-8")
            return .failure(ValidationError(issues.issues))
        case .unterminatedQuote?:
            issues.add("row", "a quoted field is not closed")
            return .failure(ValidationError(issues.issues))
        case nil:
            break
        }
        if record.fieldCount != columns.count {
            issues.add("row", "has \(record.fieldCount) fields but the header has \(columns.count)")
            return .failure(ValidationError(issues.issues))
        }
        var row = ContactImportRow(rowNumber: record.rowNumber, phone: "")
        for (index, field) in columns.enumerated() {
            guard let field, !record.isEmpty(at: index) else { continue }
            let raw = Self.value(ofCell: record.string(at: index))
            // U+0000 cannot be stored in a PostgreSQL text or jsonb value; the JSON API refuses it too.
            if raw.utf8.contains(0) {
                issues.add(fieldKey(index), "must not contain the NUL character")
                continue
            }
            switch field {
            case .phone:
                row.phone = ContactFieldRules.trimmed(raw)
            case .firstName:
                row.firstName = ContactFieldRules.validateName(raw, field: "firstName", into: &issues)
            case .lastName:
                row.lastName = ContactFieldRules.validateName(raw, field: "lastName", into: &issues)
            case .email:
                row.email = ContactFieldRules.validateEmail(raw, into: &issues)
            case .city:
                row.city = ContactFieldRules.validateCity(raw, into: &issues)
            case .state:
                row.state = ContactFieldRules.validateState(raw, into: &issues)
            case .zip:
                row.zip = ContactFieldRules.validateZip(raw, into: &issues)
            case .timezone:
                row.timezone = ContactFieldRules.validateText(
                    raw, field: "timezone", maxLength: ContactFieldRules.maxTimezoneLength, into: &issues)
            case .tags:
                let (tags, invalid) = ContactTags.split(raw)
                row.tags = tags
                if !invalid.isEmpty {
                    issues.add("tags", "tags must be at most \(ContactTags.maxLength) characters")
                }
            case .optedOut:
                let trimmed = ContactFieldRules.trimmed(raw)
                if trimmed.isEmpty { continue }
                if let value = ContactFieldRules.parseBoolean(trimmed) {
                    row.optedOut = value
                } else {
                    issues.add("optedOut", "must be true/false, yes/no, y/n or 1/0")
                }
            case .custom(let name):
                let value = ContactFieldRules.trimmed(raw)
                if value.isEmpty { continue }
                if value.count > ContactFieldRules.maxCustomFieldValueLength {
                    issues.add("customFields.\(name)", "must be at most \(ContactFieldRules.maxCustomFieldValueLength) characters")
                } else {
                    row.customFields[name] = value
                }
            }
        }
        if row.phone.isEmpty, !issues.issues.contains(where: { $0.field == "phone" }) { issues.add("phone", "is required") }
        if !issues.isEmpty { return .failure(ValidationError(issues.issues)) }
        return .success(row)
    }

    /// What a cell holds: trimmed of whitespace, and without the `'` a spreadsheet-safe export
    /// puts before a formula character (`CSVWriter.removingFormulaPrefix(_:)`), so that Herald's
    /// own export imports back as it was (`'=HYPERLINK(…)` is `=HYPERLINK(…)`, a tags cell
    /// `'=cmd;vip` is the tags `=cmd` and `vip`).
    public static func value(ofCell cell: String) -> String {
        ContactFieldRules.trimmed(CSVWriter.removingFormulaPrefix(ContactFieldRules.trimmed(cell)))
    }

    private func fieldKey(_ index: Int) -> String {
        index < columns.count ? (columns[index]?.jsonKey ?? "header[\(index)]") : "row"
    }
}
