import Testing
@testable import HeraldCore

private let alex = MergeFieldDictionary([
    "firstName": "Alex", "lastName": "Doe", "email": "alex@example.com", "phone": "+12025550123",
    "city": "Raleigh", "state": "NC", "zip": "27601", "team": "blue", "blank": "   ", "empty": "",
])

@Suite("Merge-field templates", .timeLimit(.minutes(10)))
struct MessageTemplateTests {
    @Test(arguments: [
        ("Hi {{firstName}} {{lastName}}", "Hi Alex Doe"),
        ("{{email}} {{phone}} {{city}}, {{state}} {{zip}}", "alex@example.com +12025550123 Raleigh, NC 27601"),
        ("Team {{team}}!", "Team blue!"),
        ("Hi {{ firstName }}", "Hi Alex"),
        ("Hi {{\tfirstName\t}}", "Hi Alex"),
        ("Hi {{firstName|there}}", "Hi Alex"),
        ("Hi {{missing|there}}", "Hi there"),
        ("Hi {{ missing | my friend }}!", "Hi my friend!"),
        ("Hi {{blank|there}}", "Hi there"),
        ("Hi {{empty|there}}", "Hi there"),
        ("Hi {{missing}}!", "Hi !"),
        ("Hi {{missing|}}!", "Hi !"),
        ("{{firstName}}{{lastName}}", "AlexDoe"),
        ("No fields at all", "No fields at all"),
        ("", ""),
    ])
    func renders(_ source: String, _ expected: String) {
        #expect(MessageTemplate(parsing: source).render(with: alex) == expected)
    }

    /// Anything that is not a well-formed merge field stays literal, exactly as written.
    @Test(arguments: [
        "a lone { brace", "a lone } brace", "{{ unclosed", "{{firstName", "{{firstName}",
        "{{}}", "{{ }}", "{{ has space }}", "{{{firstName}}}", "{{{x}}}", "{{firstName}}}x",
        #"{"json": {"nested": [1, 2]}}"#, #"{{"a": 1}}"#, "{{1abc}}", "{{first-name}}", "{{a|b{c}}",
        "}}{{", "{ {firstName} }", "€{{",
    ])
    func keepsNonFieldsLiteral(_ source: String) {
        let template = MessageTemplate(parsing: source)
        #expect(template.render(with: alex) == source)
        #expect(template.referencedFields.isEmpty)
        #expect(!template.hasFields)
    }

    @Test func literalsAroundFieldsArePreservedByteForByte() {
        let source = "{ \"x\": {{firstName}} } {{{not}}} {{team|t}} }}"
        #expect(MessageTemplate(parsing: source).render(with: alex) == "{ \"x\": Alex } {{{not}}} blue }}")
    }

    @Test func referencedFieldsAreUniqueInOrder() {
        let template = MessageTemplate(parsing: "{{team}} {{firstName}} {{team|x}} {{ vip }} {{zip}}")
        #expect(template.referencedFields == [.custom("team"), .standard(.firstName), .custom("vip"), .standard(.zip)])
        #expect(template.referencedFieldNames == ["team", "firstName", "vip", "zip"])
        #expect(template.unknownFieldNames(knownCustomFields: ["team"]) == ["vip"])
        #expect(template.unknownFieldNames(knownCustomFields: ["team", "vip"]) == [])
    }

    @Test func standardFieldNamesAreCaseSensitive() {
        #expect(MessageTemplate(parsing: "{{FirstName}}").referencedFields == [.custom("FirstName")])
    }

    @Test(arguments: [0, 1, 31, 32, 33, 100, 2000])
    func rendersValuesOfAnyLength(_ length: Int) {
        let long = String(repeating: "é", count: length)
        let values = MergeFieldDictionary(["firstName": long, "team": "😀" + long])
        let template = MessageTemplate(parsing: "A{{firstName|x}}B{{team}}C")
        let expected = "A" + (length == 0 ? "x" : long) + "B😀" + long + "C"
        #expect(template.render(with: values) == expected)
        #expect(template.renderSlow(with: values) == expected)
    }

    @Test func rendersFromAContact() {
        let contact = Contact(key: 1, id: "c1", phone: "+12025550123", firstName: " ", city: "Austin", customFields: ["team": "gold"])
        let template = MessageTemplate(parsing: "Hi {{firstName|there}} from {{city}} ({{team}}) {{phone}} {{zip|-}}")
        #expect(template.render(with: contact) == "Hi there from Austin (gold) +12025550123 -")
    }

    @Test func rendersFromAConformingRowWithoutDictionaries() {
        let recipient = InlineRecipient(phone: "+12025550123", firstName: "Sam", customFields: ["score": .number(42), "team": .string("red")])
        let template = MessageTemplate(parsing: "{{firstName}}: {{score}} {{team}} {{city|nowhere}}")
        #expect(template.render(with: recipient) == "Sam: 42 red nowhere")
    }
}
