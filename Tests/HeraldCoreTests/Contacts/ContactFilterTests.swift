import Foundation
import HeraldCore
import Testing

private func json(_ text: String) throws -> FilterJSON {
    try JSONDecoder().decode(FilterJSON.self, from: Data(text.utf8))
}

private func issueFields(_ text: String, path: String = "") throws -> [String] {
    let value = try json(text)
    do {
        _ = try ContactFilter(validating: value, path: path)
        return []
    } catch {
        return error.issues.map(\.field).sorted()
    }
}

@Suite("Contact filter", .timeLimit(.minutes(10)))
struct ContactFilterTests {
    @Test("Empty filter matches every contact", arguments: ["{}", "null", #"{"tags": [], "conditions": null}"#])
    func empty(text: String) throws {
        let filter = try ContactFilter(validating: try json(text))
        #expect(filter.matchesEveryContact)
        #expect(filter.tagsLogic == .or)
        #expect(filter.conditionsLogic == .and)
    }

    @Test("Full filter decodes into a normalized AST; unknown keys are ignored")
    func full() throws {
        let text = #"""
        {"tags": [" VIP ", "vip", "Donor"], "tagsLogic": "and", "excludeTags": ["Staff"],
         "listIds": ["3F2504E0-4F89-11D3-9A0C-0305E82C3301"], "state": ["NC", " sc "], "zip": ["27601"],
         "city": ["Raleigh"], "conditionsLogic": "OR", "somethingNew": {"x": 1},
         "conditions": [
           {"field": "customFields.team", "op": "eq", "value": "blue", "extra": true},
           {"field": "createdAt", "op": "gte", "value": "2026-04-20T09:00:00-04:00"},
           {"field": "isOptedIn", "op": "eq", "value": true},
           {"field": "email", "op": "exists"},
           {"field": "state", "op": "in", "value": ["NC", "SC"]},
           {"field": "customFields.age", "op": "gt", "value": 30}
         ]}
        """#
        let filter = try JSONDecoder().decode(ContactFilter.self, from: Data(text.utf8))
        #expect(filter.tags == ["vip", "donor"])
        #expect(filter.tagsLogic == .and)
        #expect(filter.excludeTags == ["staff"])
        #expect(filter.listIds == [UUID(uuidString: "3f2504e0-4f89-11d3-9a0c-0305e82c3301")!])
        #expect(filter.states == ["NC", "sc"])
        #expect(filter.conditionsLogic == .or)
        #expect(filter.conditions == [
            .init(field: .custom("team"), op: .eq, value: .string("blue")),
            .init(field: .standard(.createdAt), op: .gte, value: .instant(epochMilliseconds: 1_776_690_000_000)),
            .init(field: .standard(.isOptedIn), op: .eq, value: .bool(true)),
            .init(field: .standard(.email), op: .exists, value: nil),
            .init(field: .standard(.state), op: .in, value: .list([.string("NC"), .string("SC")])),
            .init(field: .custom("age"), op: .gt, value: .number(30)),
        ])
    }

    @Test("Each rule reports its field", arguments: [
        (#"{"tagsLogic": "XOR"}"#, ["tagsLogic"]),
        (#"{"conditionsLogic": 1}"#, ["conditionsLogic"]),
        (#"{"tags": "vip"}"#, ["tags"]),
        (#"{"tags": ["ok", 3, "", "\#(String(repeating: "t", count: 65))"]}"#, ["tags[1]", "tags[2]", "tags[3]"]),
        (#"{"excludeTags": [null]}"#, ["excludeTags[0]"]),
        (#"{"listIds": ["nope", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"]}"#, ["listIds[0]"]),
        (#"{"state": [""], "zip": [27601], "city": "Raleigh"}"#, ["city", "state[0]", "zip[0]"]),
        (#"{"conditions": {}}"#, ["conditions"]),
        (#"{"conditions": [1]}"#, ["conditions[0]"]),
        (#"{"conditions": [{"op": "eq", "value": "x"}]}"#, ["conditions[0].field"]),
        (#"{"conditions": [{"field": "shoeSize", "op": "eq", "value": "x"}]}"#, ["conditions[0].field"]),
        (#"{"conditions": [{"field": "customFields.bad-name", "op": "eq", "value": "x"}]}"#, ["conditions[0].field"]),
        (#"{"conditions": [{"field": "phone", "op": "like", "value": "x"}]}"#, ["conditions[0].op"]),
        (#"{"conditions": [{"field": "phone", "value": "x"}]}"#, ["conditions[0].op"]),
        (#"{"conditions": [{"field": "phone", "op": "eq"}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "phone", "op": "eq", "value": ["a"]}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "phone", "op": "eq", "value": 5}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "phone", "op": "in", "value": "a"}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "phone", "op": "in", "value": []}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "phone", "op": "in", "value": ["a", 1, {}]}]}"#, ["conditions[0].value[1]", "conditions[0].value[2]"]),
        (#"{"conditions": [{"field": "phone", "op": "exists", "value": "x"}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "isTextable", "op": "gt", "value": true}]}"#, ["conditions[0].op"]),
        (#"{"conditions": [{"field": "isTextable", "op": "eq", "value": "true"}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "createdAt", "op": "contains", "value": "2026"}]}"#, ["conditions[0].op"]),
        (#"{"conditions": [{"field": "createdAt", "op": "gt", "value": "2026-04-20T13:00:00"}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "updatedAt", "op": "lt", "value": "2026-02-30T13:00:00Z"}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "optedOutAt", "op": "eq", "value": 1776690000000}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "customFields.x", "op": "contains", "value": 3}]}"#, ["conditions[0].value"]),
        (#"{"conditions": [{"field": "customFields.x", "op": "gt", "value": false}]}"#, ["conditions[0].value"]),
        ("[]", ["filter"]),
    ])
    func rules(text: String, fields: [String]) throws {
        #expect(try issueFields(text) == fields.sorted())
    }

    @Test("Several issues at once, under the request path")
    func severalIssues() throws {
        let text = #"""
        {"tagsLogic": "both", "listIds": [1],
         "conditions": [{"field": "phone", "op": "eq", "value": "1"}, {"field": "x", "op": "y"},
                        {"field": "email", "op": "eq", "value": 1}]}
        """#
        #expect(try issueFields(text, path: "filter") == [
            "filter.conditions[1].field", "filter.conditions[1].op", "filter.conditions[2].value",
            "filter.listIds[0]", "filter.tagsLogic",
        ])
    }

    @Test("Limits", arguments: [
        ("conditions", 101, "conditions"), ("tags", 101, "tags"), ("in", 1001, "conditions[0].value"),
    ])
    func limits(kind: String, count: Int, field: String) throws {
        let text: String
        switch kind {
        case "conditions":
            text = #"{"conditions": [\#(Array(repeating: #"{"field":"email","op":"exists"}"#, count: count).joined(separator: ","))]}"#
        case "tags":
            text = #"{"tags": [\#((0..<count).map { "\"t\($0)\"" }.joined(separator: ","))]}"#
        default:
            text = #"{"conditions": [{"field":"zip","op":"in","value":[\#((0..<count).map { "\"\($0)\"" }.joined(separator: ","))]}]}"#
        }
        #expect(try issueFields(text) == [field])
    }

    @Test("Limits are inclusive", arguments: [100])
    func atLimits(count: Int) throws {
        let conditions = Array(repeating: #"{"field":"email","op":"exists"}"#, count: count - 1).joined(separator: ",")
        let tags = (0..<count).map { "\"t\($0)\"" }.joined(separator: ",")
        let values = (0..<ContactFilter.maxListValues).map { "\"\($0)\"" }.joined(separator: ",")
        let filter = try ContactFilter(validating: try json(
            #"{"tags": [\#(tags)], "conditions": [\#(conditions), {"field":"zip","op":"in","value":[\#(values)]}]}"#))
        #expect(filter.tags.count == count)
        #expect(filter.conditions.count == count)
        #expect(filter.conditions.last?.value == .list((0..<1000).map { .string("\($0)") }))
    }

    @Test("RFC 3339 instants convert to UTC epoch milliseconds", arguments: [
        ("2026-04-20T13:00:00Z", 1_776_690_000_000),
        ("2026-04-20T13:00:00.000Z", 1_776_690_000_000),
        ("2026-04-20t09:00:00.5-04:00", 1_776_690_000_500),
        ("2026-04-20 14:30:00.123456+01:30", 1_776_690_000_123),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999Z", -1),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("2016-12-31T23:59:60Z", 1_483_228_799_999),
    ] as [(String, Int64)])
    func instants(text: String, ms: Int64) {
        #expect(ContactFilter.parseInstant(text) == ms)
    }

    @Test("Invalid instants", arguments: [
        "2026-04-20T13:00:00", "2026-04-20", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-04-20T24:00:00Z", "2026-04-20T13:00:00.Z", "2026-04-20T13:00:00+0100", "2026-04-20T13:00:00Zx", "",
    ])
    func badInstants(text: String) {
        #expect(ContactFilter.parseInstant(text) == nil)
    }

    @Test("Instant formatting", arguments: [
        (1_776_690_000_000, "2026-04-20T13:00:00.000Z"), (-1, "1969-12-31T23:59:59.999Z"),
        (1_709_164_800_042, "2024-02-29T00:00:00.042Z"),
    ] as [(Int64, String)])
    func formatting(ms: Int64, text: String) {
        #expect(ContactFilter.formatInstant(epochMilliseconds: ms) == text)
        #expect(ContactFilter.parseInstant(text) == ms)
    }

    @Test("Encodes to the API shape and round-trips", arguments: [
        "{}",
        #"{"tags": ["VIP"], "tagsLogic": "AND", "excludeTags": ["x"], "listIds": ["3F2504E0-4F89-11D3-9A0C-0305E82C3301"], "state": ["NC"], "zip": ["1"], "city": ["R"], "conditionsLogic": "OR", "conditions": [{"field": "customFields.team", "op": "in", "value": ["a", 2, true]}, {"field": "createdAt", "op": "lt", "value": "2026-04-20T09:00:00.25-04:00"}, {"field": "email", "op": "notExists"}, {"field": "isTextable", "op": "neq", "value": false}]}"#,
    ])
    func roundTrip(text: String) throws {
        let filter = try JSONDecoder().decode(ContactFilter.self, from: Data(text.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(filter)
        #expect(try JSONDecoder().decode(ContactFilter.self, from: data) == filter)
        #expect(try JSONDecoder().decode(FilterJSON.self, from: data) == filter.json)
    }

    @Test("Encoded form is normalized")
    func encodedForm() throws {
        let filter = try ContactFilter(validating: try json(
            #"{"tags": [" VIP "], "listIds": ["3F2504E0-4F89-11D3-9A0C-0305E82C3301"], "conditions": [{"field": "createdAt", "op": "gt", "value": "2026-04-20T09:00:00-04:00"}]}"#))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(filter), as: UTF8.self)
        #expect(text == #"{"conditions":[{"field":"createdAt","op":"gt","value":"2026-04-20T13:00:00.000Z"}],"listIds":["3f2504e0-4f89-11d3-9a0c-0305e82c3301"],"tags":["vip"]}"#)
    }

    @Test("Decoding a malformed filter throws ValidationError, not a crash")
    func decodingThrowsValidation() {
        #expect(throws: ValidationError.self) {
            try JSONDecoder().decode(ContactFilter.self, from: Data(#"{"conditions": [{"field": 1, "op": null}]}"#.utf8))
        }
    }
}

@Suite("Contact filter value limit", .timeLimit(.minutes(10)))
struct ContactFilterValueLimitTests {
    /// `conditions` `in` conditions with `each` values, plus `tags` tags and `states` states.
    static func filter(conditions: Int, each: Int, tags: Int = 0, states: Int = 0) -> FilterJSON {
        var object: [String: FilterJSON] = [:]
        object["conditions"] = .array((0..<conditions).map { _ in
            .object(["field": .string("customFields.team"), "op": .string("in"), "value": .array((0..<each).map { .string("v\($0)") })])
        })
        if tags > 0 { object["tags"] = .array((0..<tags).map { .string("t\($0)") }) }
        if states > 0 { object["state"] = .array((0..<states).map { .string("S\($0)") }) }
        return .object(object)
    }

    @Test("the values of the whole filter count together against maxTotalValues, reported on the filter's own key",
          arguments: [
            (65, 1000, 0, 0, false),      // 65,000: past both databases' limits
            (10, 1000, 0, 0, true),       // exactly 10,000
            (10, 1000, 1, 0, false),      // one tag more
            (9, 1000, 100, 900, true),    // 10,000 across conditions, tags and states
            (9, 1000, 100, 901, false),
          ])
    func total(conditions: Int, each: Int, tags: Int, states: Int, valid: Bool) throws {
        let json = Self.filter(conditions: conditions, each: each, tags: tags, states: states)
        for path in ["", "contactFilter"] {
            do {
                let filter = try ContactFilter(validating: json, path: path)
                #expect(valid, "accepted \(filter.valueCount) values")
                #expect(filter.valueCount == conditions * each + tags + states)
            } catch {
                #expect(!valid)
                #expect(error.issues.map(\.field) == [path.isEmpty ? "filter" : path])
            }
        }
    }
}

@Suite("Contact filter: wrong JSON types apart from broken rules", .timeLimit(.minutes(10)))
struct ContactFilterCheckTests {
    @Test("check sorts issues by kind; init(validating:) reports both", arguments: [
        (#"{"tags":"vip"}"#, ["f.tags"], [String]()),
        (#"[]"#, ["f"], []),
        (#"{"state":"NC","zip":[1]}"#, ["f.state", "f.zip[0]"], []),
        (#"{"conditions":{}}"#, ["f.conditions"], []),
        (#"{"tagsLogic":1,"conditionsLogic":"XOR"}"#, ["f.tagsLogic"], ["f.conditionsLogic"]),
        (#"{"conditions":[3,{"field":true,"op":"like"},{"field":"city","op":"eq","value":{}}]}"#,
         ["f.conditions[0]", "f.conditions[1].field", "f.conditions[2].value"], ["f.conditions[1].op"]),
        (#"{"conditions":[{"field":"shoe","op":"in","value":"x"}]}"#, [], ["f.conditions[0].field", "f.conditions[0].value"]),
        (#"{"tags":["vip"]}"#, [], []),
    ])
    func kinds(text: String, typed: [String], rules: [String]) throws {
        let check = ContactFilter.check(try json(text), path: "f")
        #expect(check.typeIssues.map(\.field) == typed)
        #expect(check.ruleIssues.map(\.field) == rules)
        #expect((check.filter == nil) == !(typed + rules).isEmpty)
        #expect(Set(try issueFields(text, path: "f")) == Set(typed + rules))
    }
}
