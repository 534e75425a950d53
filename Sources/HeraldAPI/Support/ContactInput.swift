import Foundation
import HeraldCore
import PhoneNumbers

/// Turns a contact request body into validated `ContactChanges`: phone normalized to E.164 with
/// the organization's default country, tags normalized, every failing field reported.
enum ContactInput {
    static let standardKeys = ["phone", "firstName", "lastName", "email", "city", "state", "zip", "timezone", "tags", "customFields"]

    /// Normalizes a phone number; the issue names `field`.
    static func phone(_ raw: String, defaultCountry: String, field: String = "phone") -> Result<PhoneNumber, FieldIssue> {
        do {
            return .success(try PhoneNumberKit.shared.parse(raw, defaultRegion: defaultCountry))
        } catch {
            return .failure(FieldIssue(field: field, message: error.message))
        }
    }

    static func parse(_ fields: inout RequestFields, defaultCountry: String, requirePhone: Bool) throws -> ContactChanges {
        var issues = IssueCollector()
        let ch = collect(&fields, defaultCountry: defaultCountry, requirePhone: requirePhone, into: &issues)
        try fields.finish(issues)
        return ch
    }

    /// `parse` without the throw: rule issues go to `issues`, type issues to `fields`, so a
    /// caller that reads contacts nested in a larger body reports them under its own path.
    static func collect(_ fields: inout RequestFields, defaultCountry: String, requirePhone: Bool, into issues: inout IssueCollector) -> ContactChanges {
        var ch = ContactChanges()
        let phoneText = fields.string("phone")
        func text(_ key: String, _ validate: (String, inout IssueCollector) -> String?) -> FieldUpdate<String> {
            let u = fields.update(key)
            if case .set(let v) = u {
                guard let ok = validate(v, &issues) else { return .unchanged }
                return .set(ok)
            }
            return u
        }
        ch.firstName = text("firstName") { ContactFieldRules.validateName($0, field: "firstName", into: &$1) }
        ch.lastName = text("lastName") { ContactFieldRules.validateName($0, field: "lastName", into: &$1) }
        ch.email = text("email") { ContactFieldRules.validateEmail($0, into: &$1) }
        ch.city = text("city") { ContactFieldRules.validateCity($0, into: &$1) }
        ch.state = text("state") { ContactFieldRules.validateState($0, into: &$1) }
        ch.zip = text("zip") { ContactFieldRules.validateZip($0, into: &$1) }
        ch.timezone = text("timezone") { value, issues in
            guard TimeZone(identifier: value) != nil else { issues.add("timezone", "must be an IANA time zone such as America/New_York"); return nil }
            return value
        }
        if let tags = fields.strings("tags") {
            ch.tags = ContactTags.normalize(tags, field: "tags", into: &issues)
        }
        if let custom = fields.objectValue("customFields") {
            var values: [String: String?] = [:]
            for (k, v) in custom.sorted(by: { $0.key < $1.key }) {
                switch v {
                // Trimmed like every text field and an import's cells (API.md §3); empty, it
                // removes the field as `null` does, as "" clears a standard field.
                case .string(let s):
                    let text = ContactFieldRules.trimmed(s)
                    values[k] = text.isEmpty ? .some(nil) : text
                case .number(let d):
                    // Whole numbers print as integers while a JSON number holds them exactly
                    // (±2^53, RFC 8259 §6); beyond that the digits were already lost in transit,
                    // so the value is refused rather than stored changed.
                    if d.rounded() == d && abs(d) >= FilterJSON.exactIntegerLimit {
                        issues.add("customFields.\(k)", "is a whole number beyond ±2^53, which JSON cannot carry exactly; send it as a string")
                    } else {
                        values[k] = FilterJSON.text(ofNumber: d)
                    }
                case .bool(let b): values[k] = b ? "true" : "false"
                case .null: values[k] = .some(nil)
                default: fields.addTypeIssues([FieldIssue(field: "customFields.\(k)", message: "must be a string, number, boolean or null")])
                }
            }
            for k in values.keys.sorted() {
                if let problem = ContactFieldRules.customFieldNameProblem(k) {
                    issues.add("customFields.\(k)", problem)
                } else if (values[k] ?? nil) != nil, ContactFieldRules.isReservedCustomFieldName(k) {
                    issues.add("customFields.\(k)", "is the name of a contact field, not available for a custom field")
                }
                if let v = values[k] ?? nil, v.count > ContactFieldRules.maxCustomFieldValueLength {
                    issues.add("customFields.\(k)", "must be at most \(ContactFieldRules.maxCustomFieldValueLength) characters")
                }
            }
            ch.customFields = values
        }
        if let phoneText {
            switch phone(phoneText, defaultCountry: defaultCountry) {
            case .success(let number):
                ch.phone = number.e164
                ch.isTextable = number.isTextable
            case .failure(let issue): issues.add(issue.field, issue.message)
            }
        } else if requirePhone {
            issues.add("phone", "is required")
        } else if fields.has("phone") {
            issues.add("phone", "cannot be removed")
        }
        return ch
    }
}

extension FieldIssue: Error {}
