import Foundation
import Testing
@testable import HeraldCore

private let segmentUUID = "8d9f6c1e-2b1a-4c0e-9a55-0f6a3c1d2e4b"
private let listUUID = "1f0e2d3c-4b5a-4697-8877-665544332211"

/// A launchable campaign; tests break one rule at a time.
private func valid() -> CampaignFields {
    var fields = CampaignFields()
    fields.name = "April Fundraiser"
    fields.message = "Hi {{firstName|there}}, team {{team}}!"
    fields.segmentId = segmentUUID
    return fields
}

private func draftIssues(_ fields: CampaignFields) -> [FieldIssue] {
    do {
        try fields.validateDraft()
        return []
    } catch {
        return error.issues
    }
}

private func launchIssues(_ fields: CampaignFields, known: Set<String> = ["team"]) -> [FieldIssue] {
    do {
        try fields.validateForLaunch(knownCustomFields: known)
        return []
    } catch {
        return error.issues
    }
}

fileprivate struct ValidationCase: Sendable, CustomTestStringConvertible {
    let label: String
    let change: @Sendable (inout CampaignFields) -> Void
    /// Fields expected in the draft issues and in the launch issues.
    let draft: [String]
    let launch: [String]
    var testDescription: String { label }
}

private let longText = String(repeating: "x", count: 1601)

private let validationCases: [ValidationCase] = [
    ValidationCase(label: "valid", change: { _ in }, draft: [], launch: []),
    ValidationCase(label: "name too long", change: { $0.name = String(repeating: "n", count: 201) }, draft: ["name"], launch: ["name"]),
    ValidationCase(label: "name 200 ok", change: { $0.name = String(repeating: "n", count: 200) }, draft: [], launch: []),
    ValidationCase(label: "name missing", change: { $0.name = nil }, draft: [], launch: ["name"]),
    ValidationCase(label: "name blank", change: { $0.name = "  " }, draft: [], launch: ["name"]),
    ValidationCase(label: "message too long", change: { $0.message = longText }, draft: ["message"], launch: ["message"]),
    ValidationCase(label: "message 1600 ok", change: { $0.message = String(longText.dropFirst()) }, draft: [], launch: []),
    ValidationCase(label: "message missing", change: { $0.message = nil }, draft: [], launch: ["message"]),
    ValidationCase(label: "message missing with template", change: { $0.message = nil; $0.channel = "whatsapp"; $0.template = .string("welcome_v2") }, draft: [], launch: []),
    ValidationCase(label: "link tracking (not built)", change: { $0.trackLinks = true }, draft: [], launch: ["trackLinks"]),
    ValidationCase(label: "no link tracking", change: { $0.trackLinks = false }, draft: [], launch: []),
    ValidationCase(label: "SMS with only a template", change: { $0.message = nil; $0.template = .string("welcome_v2") }, draft: [], launch: ["message"]),
    ValidationCase(label: "Telegram with only a template", change: { $0.message = nil; $0.channel = "telegram"; $0.template = .string("t") }, draft: [], launch: ["message"]),
    ValidationCase(label: "http media", change: { $0.mediaUrl = "http://example.com/a.jpg" }, draft: ["mediaUrl"], launch: ["mediaUrl"]),
    ValidationCase(label: "relative media", change: { $0.mediaUrl = "/a.jpg" }, draft: ["mediaUrl"], launch: ["mediaUrl"]),
    ValidationCase(label: "https media ok", change: { $0.mediaUrl = "https://cdn.example.com/a.jpg" }, draft: [], launch: []),
    ValidationCase(label: "bad forceRoute", change: { $0.forceRoute = "auto" }, draft: ["forceRoute"], launch: ["forceRoute"]),
    ValidationCase(label: "bad channel", change: { $0.channel = "fax" }, draft: ["channel"], launch: ["channel"]),
    ValidationCase(label: "bad fallback", change: { $0.fallbackChannels = ["email", "pigeon", "text", "email"] },
                   draft: ["fallbackChannels[1]", "fallbackChannels[2]", "fallbackChannels[3]"],
                   launch: ["fallbackChannels[1]", "fallbackChannels[2]", "fallbackChannels[3]"]),
    ValidationCase(label: "unknown timezone", change: { $0.timezone = "Mars/Olympus" }, draft: ["timezone"], launch: ["timezone"]),
    ValidationCase(label: "known timezone", change: { $0.timezone = "America/Chicago" }, draft: [], launch: []),
    ValidationCase(label: "percent 0", change: { $0.abTestSamplePercent = 0 }, draft: ["abTestSamplePercent"], launch: ["abTestSamplePercent"]),
    ValidationCase(label: "percent 51", change: { $0.abTestSamplePercent = 51 }, draft: ["abTestSamplePercent"], launch: ["abTestSamplePercent"]),
    ValidationCase(label: "percent 50", change: { $0.abTestSamplePercent = 50 }, draft: [], launch: []),
    ValidationCase(label: "duration 0", change: { $0.abTestDurationMinutes = 0 }, draft: ["abTestDurationMinutes"], launch: ["abTestDurationMinutes"]),
    ValidationCase(label: "duration 10081", change: { $0.abTestDurationMinutes = 10081 }, draft: ["abTestDurationMinutes"], launch: ["abTestDurationMinutes"]),
    ValidationCase(label: "duration 10080", change: { $0.abTestDurationMinutes = 10080 }, draft: [], launch: []),
    ValidationCase(label: "bad metric", change: { $0.abTestMetric = "opens" }, draft: ["abTestMetric"], launch: ["abTestMetric"]),
    ValidationCase(label: "six FAQs", change: { $0.faqReplies = Array(repeating: CampaignFAQReply(question: "q", answer: "a"), count: 6) },
                   draft: ["faqReplies"], launch: ["faqReplies"]),
    ValidationCase(label: "bad segment id", change: { $0.segmentId = "seg-1" }, draft: ["segmentId"], launch: ["segmentId"]),
    ValidationCase(label: "bad sender id", change: { $0.senderId = "x" }, draft: ["senderId"], launch: ["senderId"]),
    ValidationCase(label: "two audiences", change: { $0.listIds = [listUUID] }, draft: ["segmentId", "listIds"], launch: ["segmentId", "listIds"]),
    ValidationCase(label: "no audience", change: { $0.segmentId = nil }, draft: [],
                   launch: ["segmentId", "contactFilter", "listIds", "recipients"]),
    ValidationCase(label: "filter audience", change: { $0.segmentId = nil; $0.contactFilter = .object(["tags": .array([.string("vip")])]) }, draft: [], launch: []),
    ValidationCase(label: "invalid filter", change: { $0.segmentId = nil; $0.contactFilter = .object(["tagsLogic": .string("XOR")]) },
                   draft: ["contactFilter.tagsLogic"], launch: ["contactFilter.tagsLogic"]),
    ValidationCase(label: "empty lists", change: { $0.segmentId = nil; $0.listIds = [] }, draft: [], launch: ["listIds"]),
    ValidationCase(label: "bad list id", change: { $0.segmentId = nil; $0.listIds = [listUUID, "nope"] }, draft: ["listIds[1]"], launch: ["listIds[1]"]),
    ValidationCase(label: "recipient without phone", change: { $0.segmentId = nil; $0.recipients = [InlineRecipient(phone: "+12025550100"), InlineRecipient(phone: nil)] },
                   draft: ["recipients[1].phone"], launch: ["recipients[1].phone"]),
    ValidationCase(label: "A/B without variant B", change: { $0.abTestEnabled = true; $0.message = nil; $0.messageVariantA = "A" },
                   draft: [], launch: ["messageVariantB"]),
    ValidationCase(label: "A/B complete", change: { $0.abTestEnabled = true; $0.message = nil; $0.messageVariantA = "A"; $0.messageVariantB = "B" },
                   draft: [], launch: []),
    ValidationCase(label: "auto-reply without responses", change: { $0.autoReplyEnabled = true }, draft: [], launch: ["autoReplyEnabled"]),
    ValidationCase(label: "auto-reply with yes", change: { $0.autoReplyEnabled = true; $0.yesResponse = "Thanks!" }, draft: [], launch: []),
    ValidationCase(label: "FAQ with empty answer", change: { $0.autoReplyEnabled = true; $0.faqReplies = [CampaignFAQReply(question: "When?", answer: "Now"), CampaignFAQReply(question: "Where?", answer: " ")] },
                   draft: [], launch: ["faqReplies[1].answer"]),
    ValidationCase(label: "unknown merge field in message", change: { $0.message = "Hi {{nickname}}" }, draft: [], launch: ["message"]),
    ValidationCase(label: "unknown merge field in variant B", change: { $0.abTestEnabled = true; $0.messageVariantA = "{{team}}"; $0.messageVariantB = "{{squad}}" },
                   draft: [], launch: ["messageVariantB"]),
    ValidationCase(label: "unknown merge field in FAQ answer", change: { $0.faqReplies = [CampaignFAQReply(question: "q", answer: "ok"), CampaignFAQReply(question: "q", answer: "{{x}}")] },
                   draft: [], launch: ["faqReplies[1].answer"]),
    ValidationCase(label: "brace text is not a merge field", change: { $0.message = "Use code {{ SAVE 10 }} or {json}" }, draft: [], launch: []),
]

@Suite("Campaign validation (API.md §5.2)", .timeLimit(.minutes(10)))
struct CampaignValidationTests {
    @Test(arguments: validationCases)
    fileprivate func rule(_ row: ValidationCase) {
        var fields = valid()
        row.change(&fields)
        #expect(draftIssues(fields).map(\.field) == row.draft)
        #expect(launchIssues(fields).map(\.field) == row.launch)
    }

    @Test func everyFailureIsReportedTogether() {
        var fields = CampaignFields()
        fields.name = String(repeating: "n", count: 300)
        fields.message = "Hi {{nickname}} and {{alias}}"
        fields.mediaUrl = "ftp://x"
        fields.timezone = "Nowhere/Land"
        fields.abTestEnabled = true
        fields.abTestSamplePercent = 80
        fields.segmentId = segmentUUID
        fields.contactFilter = .object([:])
        let issues = launchIssues(fields)
        #expect(issues.map(\.field) == [
            "name", "mediaUrl", "timezone", "abTestSamplePercent", "segmentId", "contactFilter",
            "messageVariantA", "messageVariantB", "message",
        ])
        let message = issues.first { $0.field == "message" }?.message
        #expect(message == "unknown merge fields {{nickname}}, {{alias}}")
        #expect(draftIssues(fields).map(\.field) == ["name", "mediaUrl", "timezone", "abTestSamplePercent", "segmentId", "contactFilter"])
    }

    @Test func unknownMergeFieldMessageNamesTheField() {
        var fields = valid()
        fields.message = "Hi {{nickname}}"
        #expect(launchIssues(fields) == [FieldIssue(field: "message", message: "unknown merge field {{nickname}}")])
        #expect(launchIssues(fields, known: ["team", "nickname"]).isEmpty)
    }

    @Test func decodesRequestJSONWithAliasAndDefaults() throws {
        let json = #"""
            {"name": "x", "message": "m", "phoneNumberId": "11111111-2222-4333-8444-555555555555",
             "contactFilter": {"tags": ["vip"], "tagsLogic": "AND"}, "faqReplies": [{"question": "q", "answer": "a"}],
             "unknownKey": 1}
            """#
        let fields = try JSONDecoder().decode(CampaignFields.self, from: Data(json.utf8))
        #expect(fields.senderId == "11111111-2222-4333-8444-555555555555")
        #expect(fields.audience == .filter(.object(["tags": .array([.string("vip")]), "tagsLogic": .string("AND")])))
        #expect(fields.resolvedNormalizeUnicode)
        #expect(fields.resolvedSamplePercent == 5)
        #expect(fields.resolvedDurationMinutes == 60)
        #expect(fields.resolvedABTestMetric == .replyRate)
        #expect(fields.resolvedChannel == .text)
        #expect(fields.resolvedForceRoute == .auto)
        let roundTrip = try JSONDecoder().decode(CampaignFields.self, from: JSONEncoder().encode(fields))
        #expect(roundTrip == fields)
    }
}
