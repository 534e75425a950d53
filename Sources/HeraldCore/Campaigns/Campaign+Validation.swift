import Foundation

/// Campaign request validation (API.md §5.2, §5.3). Every rule runs and every failing field is
/// reported together (API.md §1, 422 `validation_error`); field names are the request's JSON keys.
extension CampaignFields {
    public static let maxNameLength = 200
    /// Twilio rejects bodies over 1,600 characters (DOMAIN.md §1.4).
    public static let maxMessageLength = 1600
    public static let maxFAQReplies = 5
    /// Inline `recipients` a campaign may carry; larger audiences are imported.
    public static let maxInlineRecipients = 10_000
    public static let samplePercentRange = 1...50
    public static let durationMinutesRange = 1...10080

    /// Checks for `POST /api/campaigns/draft` and `PATCH`: types, lengths, enumerations and
    /// formats only; launch rules (required fields, exactly one audience, merge fields) are not.
    public func validateDraft() throws(ValidationError) {
        var issues = IssueCollector()
        collectDraftIssues(into: &issues)
        try issues.throwIfAny()
    }

    /// Checks for `POST /api/campaigns` (launch): everything `validateDraft` checks plus the launch
    /// rules of API.md §5.2.
    /// - Parameter knownCustomFields: the organization's custom field names; merge fields other
    ///   than these and the seven standard ones are reported as unknown.
    public func validateForLaunch(knownCustomFields: Set<String>) throws(ValidationError) {
        var issues = IssueCollector()
        collectDraftIssues(into: &issues)
        collectLaunchIssues(into: &issues, knownCustomFields: knownCustomFields)
        try issues.throwIfAny()
    }

    /// The draft rules, added to `issues`.
    public func collectDraftIssues(into issues: inout IssueCollector) {
        typealias K = CodingKeys
        if let name, name.count > Self.maxNameLength {
            issues.add(K.name.stringValue, "must be at most \(Self.maxNameLength) characters")
        }
        for (key, text) in messageTexts {
            if text.count > Self.maxMessageLength {
                issues.add(key, "must be at most \(Self.maxMessageLength) characters")
            }
        }
        if let mediaUrl, !Self.isAbsoluteHTTPSURL(mediaUrl) {
            issues.add(K.mediaUrl.stringValue, "must be an absolute https URL")
        }
        if let forceRoute, ForceRoute(rawValue: forceRoute) == nil {
            issues.add(K.forceRoute.stringValue, "must be one of \(Self.list(ForceRoute.allCases))")
        }
        if let channel, Channel(rawValue: channel) == nil {
            issues.add(K.channel.stringValue, "must be one of \(Self.list(Channel.allCases))")
        }
        if let fallbackChannels {
            var seen = Set<String>()
            for (index, value) in fallbackChannels.enumerated() {
                let key = "\(K.fallbackChannels.stringValue)[\(index)]"
                if Channel(rawValue: value) == nil {
                    issues.add(key, "must be one of \(Self.list(Channel.allCases))")
                } else if value == resolvedChannel.rawValue {
                    issues.add(key, "must differ from the primary channel")
                } else if !seen.insert(value).inserted {
                    issues.add(key, "is listed more than once")
                }
            }
        }
        if let timezone, TimeZone(identifier: timezone) == nil {
            issues.add(K.timezone.stringValue, "must be a known IANA time zone name")
        }
        if let abTestMetric, ABTestMetric(rawValue: abTestMetric) == nil {
            issues.add(K.abTestMetric.stringValue, "must be one of \(Self.list(ABTestMetric.allCases))")
        }
        if let abTestSamplePercent, !Self.samplePercentRange.contains(abTestSamplePercent) {
            issues.add(
                K.abTestSamplePercent.stringValue,
                "must be between \(Self.samplePercentRange.lowerBound) and \(Self.samplePercentRange.upperBound)")
        }
        if let abTestDurationMinutes, !Self.durationMinutesRange.contains(abTestDurationMinutes) {
            issues.add(
                K.abTestDurationMinutes.stringValue,
                "must be between \(Self.durationMinutesRange.lowerBound) and \(Self.durationMinutesRange.upperBound)")
        }
        if let faqReplies, faqReplies.count > Self.maxFAQReplies {
            issues.add(K.faqReplies.stringValue, "must have at most \(Self.maxFAQReplies) entries")
        }
        for (key, value) in [(K.segmentId, segmentId), (K.senderId, senderId), (K.draftId, draftId)] {
            if let value, UUID(uuidString: value) == nil { issues.add(key.stringValue, "must be a UUID") }
        }
        for (index, value) in (listIds ?? []).enumerated() where UUID(uuidString: value) == nil {
            issues.add("\(K.listIds.stringValue)[\(index)]", "must be a UUID")
        }
        // A missing phone is an invalid phone: ignored with `ignoreInvalidPhoneNumbers` (API.md §5.2).
        // Past the size limit one issue says so, instead of one per recipient.
        if let recipients, recipients.count > Self.maxInlineRecipients {
            issues.add(K.recipients.stringValue, "must hold at most \(Self.maxInlineRecipients) recipients; import larger audiences")
        }
        for (index, recipient) in (recipients ?? []).enumerated() where ignoreInvalidPhoneNumbers != true && (recipients?.count ?? 0) <= Self.maxInlineRecipients {
            if recipient.phone.map(MessagingText.isBlank) ?? true {
                issues.add("\(K.recipients.stringValue)[\(index)].phone", "is required")
            }
        }
        if let contactFilter {
            // The filter's own rules (API.md §3), reported under `contactFilter.…`.
            do {
                _ = try ContactFilter(validating: contactFilter, path: K.contactFilter.stringValue)
            } catch {
                issues.merge(error.issues)
            }
        }
        let sources = audienceSourceFields
        if sources.count > 1 {
            for field in sources {
                issues.add(field, "only one of \(Self.audienceFieldList) may be given; got \(sources.joined(separator: ", "))")
            }
        }
    }

    /// Wrong JSON types inside `contactFilter` (`contactFilter.tags` not an array, …): the API
    /// reports them as a 400 `invalid_request` rather than with the rules' 422 (API.md §1).
    /// `collectDraftIssues(into:)` lists them too.
    public var typeIssues: [FieldIssue] {
        contactFilter.map { ContactFilter.check($0, path: CodingKeys.contactFilter.stringValue).typeIssues } ?? []
    }

    /// The launch-only rules, added to `issues`.
    public func collectLaunchIssues(into issues: inout IssueCollector, knownCustomFields: Set<String>) {
        typealias K = CodingKeys
        if name.map(MessagingText.isBlank) ?? true {
            issues.add(K.name.stringValue, "is required")
        }
        if isBlank(message), !isABTest, template == nil || !resolvedChannel.hasTemplates {
            issues.add(K.message.stringValue, resolvedChannel.hasTemplates
                       ? "is required unless an A/B test or a channel template is used"
                       : "is required unless an A/B test is used (\(resolvedChannel.rawValue) has no templates)")
        }
        if trackLinks == true {
            // Short links and click counts (API.md §6) are not built yet: a launch that asks for
            // them is refused rather than sent with its links untouched.
            issues.add(K.trackLinks.stringValue, "link tracking is not available in this version of Herald; launch with trackLinks false")
        }
        let sources = audienceSourceFields
        if sources.isEmpty {
            for field in Self.audienceFields {
                issues.add(field, "one of \(Self.audienceFieldList) is required")
            }
        } else if sources.count == 1 {
            if let listIds, listIds.isEmpty { issues.add(K.listIds.stringValue, "must not be empty") }
            if let recipients, recipients.isEmpty { issues.add(K.recipients.stringValue, "must not be empty") }
        }
        if isABTest {
            if isBlank(messageVariantA) { issues.add(K.messageVariantA.stringValue, "is required when abTestEnabled is true") }
            if isBlank(messageVariantB) { issues.add(K.messageVariantB.stringValue, "is required when abTestEnabled is true") }
        }
        if isAutoReply, isBlank(yesResponse), isBlank(noResponse), faqReplies?.isEmpty ?? true {
            issues.add(
                K.autoReplyEnabled.stringValue,
                "requires at least one of yesResponse, noResponse or faqReplies")
        }
        for (index, reply) in (faqReplies ?? []).enumerated() {
            if isBlank(reply.question) { issues.add("\(K.faqReplies.stringValue)[\(index)].question", "is required") }
            if isBlank(reply.answer) { issues.add("\(K.faqReplies.stringValue)[\(index)].answer", "is required") }
        }
        for (key, text) in messageTexts {
            let unknown = MessageTemplate(parsing: text).unknownFieldNames(knownCustomFields: knownCustomFields)
            if !unknown.isEmpty {
                let names = unknown.map { "{{\($0)}}" }.joined(separator: ", ")
                issues.add(key, unknown.count == 1 ? "unknown merge field \(names)" : "unknown merge fields \(names)")
            }
        }
    }

    /// The texts that are sent and may hold merge fields, keyed by request field path.
    var messageTexts: [(String, String)] {
        typealias K = CodingKeys
        var texts: [(String, String)] = []
        if let message { texts.append((K.message.stringValue, message)) }
        if let messageVariantA { texts.append((K.messageVariantA.stringValue, messageVariantA)) }
        if let messageVariantB { texts.append((K.messageVariantB.stringValue, messageVariantB)) }
        if let yesResponse { texts.append((K.yesResponse.stringValue, yesResponse)) }
        if let noResponse { texts.append((K.noResponse.stringValue, noResponse)) }
        for (index, reply) in (faqReplies ?? []).enumerated() {
            if let answer = reply.answer { texts.append(("\(K.faqReplies.stringValue)[\(index)].answer", answer)) }
        }
        return texts
    }

    static let audienceFields = [
        CodingKeys.segmentId.stringValue, CodingKeys.contactFilter.stringValue,
        CodingKeys.listIds.stringValue, CodingKeys.recipients.stringValue,
    ]
    static var audienceFieldList: String { audienceFields.joined(separator: ", ") }

    static func list<T: RawRepresentable<String>>(_ values: [T]) -> String {
        values.map(\.rawValue).joined(separator: ", ")
    }

    private func isBlank(_ text: String?) -> Bool {
        text.map(MessagingText.isBlank) ?? true
    }

    /// An absolute `https` URL with a host (API.md §5.2 `mediaUrl`).
    public static func isAbsoluteHTTPSURL(_ text: String) -> Bool {
        guard let url = URL(string: text), url.scheme?.lowercased() == "https",
              let host = url.host, !host.isEmpty else { return false }
        return true
    }
}
