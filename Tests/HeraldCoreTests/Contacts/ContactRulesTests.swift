import HeraldCore
import Testing

@Suite("Tags and contact field rules", .timeLimit(.minutes(10)))
struct ContactRulesTests {
    @Test("Tag normalization", arguments: [
        ("VIP", "vip"), ("  Donor 2026 ", "donor 2026"), ("ÉTÉ", "été"),
        (String(repeating: "a", count: 64), String(repeating: "a", count: 64)),
    ])
    func normalize(raw: String, tag: String) {
        #expect(ContactTags.normalize(raw) == tag)
    }

    @Test("Rejected tags", arguments: ["", "   ", String(repeating: "a", count: 65), "x,y", "a;b", "c|d"])
    func rejected(raw: String) {
        #expect(ContactTags.normalize(raw) == nil)
    }

    @Test("Import cells split on ; | and ,", arguments: [("a;b|c", ["a", "b", "c"]), ("x,Y; x", ["x", "y"]), (" ;|, ", [])])
    func importCell(cell: String, tags: [String]) {
        #expect(ContactTags.split(cell).tags == tags)
    }

    @Test("Tag arrays report each bad tag and de-duplicate")
    func tagArray() {
        var issues = IssueCollector()
        let tags = ContactTags.normalize(["VIP", " vip", "", "x", String(repeating: "b", count: 65), "x,y"], field: "tags", into: &issues)
        #expect(tags == ["vip", "x"])
        #expect(issues.issues.map(\.field) == ["tags[2]", "tags[4]", "tags[5]"])
    }

    @Test("Email shape", arguments: [
        ("a@b.co", true), ("first.last+tag@mail.example.org", true), ("a@b", false), ("@b.co", false),
        ("a@", false), ("a@@b.co", false), ("a@b@c.co", false), ("a b@c.co", false), ("a@.co", false),
        ("a@b.", false), (String(repeating: "a", count: 250) + "@b.co", false),
        (String(repeating: "a", count: 249) + "@b.co", true), ("josé@bücher.de", true), ("a\u{00A0}b@c.co", false),
        ("a@b.c\u{2003}", false), ("a@.b.co", false), ("\u{1F600}@b.co", true), ("a@b..co", true),
    ])
    func email(value: String, valid: Bool) {
        #expect(ContactFieldRules.isPlausibleEmail(value) == valid)
    }

    @Test("Length limits report the JSON key", arguments: [
        ("firstName", 100), ("state", 50), ("zip", 20), ("city", 100),
    ])
    func lengths(field: String, limit: Int) {
        var issues = IssueCollector()
        func run(_ value: String) -> String? {
            switch field {
            case "firstName": ContactFieldRules.validateName(value, field: field, into: &issues)
            case "state": ContactFieldRules.validateState(value, into: &issues)
            case "zip": ContactFieldRules.validateZip(value, into: &issues)
            default: ContactFieldRules.validateCity(value, into: &issues)
            }
        }
        #expect(run(String(repeating: "a", count: limit)) != nil)
        #expect(issues.isEmpty)
        #expect(run(String(repeating: "a", count: limit + 1)) == nil)
        #expect(issues.issues.map(\.field) == [field])
    }

    @Test("Custom field names", arguments: [
        ("team", true), ("Team_2", true), ("a", true), (String(repeating: "a", count: 64), true),
        ("", false), ("2team", false), ("_x", false), ("has space", false), ("é", false),
        (String(repeating: "a", count: 65), false), ("a-b", false),
    ])
    func customNames(name: String, valid: Bool) {
        #expect(ContactFieldRules.isValidCustomFieldName(name) == valid)
    }

    @Test("Custom fields object reports every bad entry")
    func customFields() {
        var issues = IssueCollector()
        let valid = ContactFieldRules.validateCustomFields(
            ["team": "blue", "1x": "a", "long": String(repeating: "v", count: 1001)], into: &issues)
        #expect(valid == ["team": "blue"])
        #expect(issues.issues.map(\.field) == ["customFields.1x", "customFields.long"])
    }
}
