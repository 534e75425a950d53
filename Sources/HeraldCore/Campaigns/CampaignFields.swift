import Foundation

/// The metric that picks an A/B test's winner (API.md §5.2 `abTestMetric`); ties go to A.
public enum ABTestMetric: String, Sendable, Hashable, Codable, CaseIterable {
    case replyRate, clickRate, deliveryRate
}

/// One FAQ auto-reply pair (API.md §5.2 `faqReplies`).
public struct CampaignFAQReply: Sendable, Hashable, Codable {
    public var question: String?
    public var answer: String?

    public init(question: String?, answer: String?) {
        self.question = question
        self.answer = answer
    }
}

/// An inline recipient of `recipients` (API.md §5.2), upserted as a contact at launch.
public struct InlineRecipient: Sendable, Hashable, Codable, MergeFieldValues {
    public var phone: String?
    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var city: String?
    public var state: String?
    public var zip: String?
    public var timezone: String?
    public var tags: [String]?
    public var customFields: [String: FilterJSON]?

    public init(
        phone: String?, firstName: String? = nil, lastName: String? = nil, email: String? = nil,
        city: String? = nil, state: String? = nil, zip: String? = nil, timezone: String? = nil,
        tags: [String]? = nil, customFields: [String: FilterJSON]? = nil
    ) {
        self.phone = phone
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.city = city
        self.state = state
        self.zip = zip
        self.timezone = timezone
        self.tags = tags
        self.customFields = customFields
    }

    public func value(for field: StandardMergeField) -> String? {
        switch field {
        case .firstName: firstName
        case .lastName: lastName
        case .email: email
        case .phone: phone
        case .city: city
        case .state: state
        case .zip: zip
        }
    }

    public func customValue(named name: String) -> String? {
        switch customFields?[name] {
        case .string(let value)?: value
        case .number(let value)?: value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .bool(let value)?: String(value)
        default: nil
        }
    }
}

/// Where a campaign's recipients come from: exactly one source at launch (API.md §5.2).
public enum CampaignAudience: Sendable, Hashable {
    case segment(id: String)
    /// A contact filter (API.md §3), kept raw; `ContactFilter(validating:)` interprets it.
    case filter(FilterJSON)
    case lists(ids: [String])
    case recipients([InlineRecipient])
}

/// Every request field of a campaign (API.md §5.1, §5.2), all optional, as sent. Enumerated
/// fields are kept as the raw strings sent so validation can report bad values as 422 field
/// issues; the typed accessors (`resolvedChannel`, …) give defaults.
public struct CampaignFields: Sendable, Hashable, Codable {
    public var name: String?
    public var message: String?
    public var mediaUrl: String?
    /// `AUTO` | `SMS` | `MMS`.
    public var forceRoute: String?
    /// `text` | `whatsapp` | `rcs` | `telegram` | `email` | `slack` (`Channel`, API.md §4).
    public var channel: String?
    public var fallbackChannels: [String]?
    public var normalizeUnicode: Bool?
    public var segmentId: String?
    public var contactFilter: FilterJSON?
    public var listIds: [String]?
    public var recipients: [InlineRecipient]?
    public var ignoreInvalidPhoneNumbers: Bool?
    /// Input alias `phoneNumberId` (decoded into this field).
    public var senderId: String?
    public var scheduledFor: Date?
    public var timezone: String?
    public var abTestEnabled: Bool?
    public var messageVariantA: String?
    public var messageVariantB: String?
    public var abTestSamplePercent: Int?
    /// `replyRate` | `clickRate` | `deliveryRate`.
    public var abTestMetric: String?
    public var abTestDurationMinutes: Int?
    public var autoReplyEnabled: Bool?
    public var yesResponse: String?
    public var noResponse: String?
    public var faqReplies: [CampaignFAQReply]?
    public var trackLinks: Bool?
    public var subject: String?
    /// A channel template (WhatsApp/RCS/email), kept raw.
    public var template: FilterJSON?
    public var acknowledgeDuplicateSend: Bool?
    public var draftId: String?

    public init() {}

    // MARK: Defaults (API.md §5.2)

    public static let defaultSamplePercent = 5
    public static let defaultDurationMinutes = 60

    public var resolvedChannel: Channel { channel.flatMap(Channel.init(rawValue:)) ?? .text }
    public var resolvedForceRoute: ForceRoute { forceRoute.flatMap(ForceRoute.init(rawValue:)) ?? .auto }
    public var resolvedNormalizeUnicode: Bool { normalizeUnicode ?? true }
    public var resolvedABTestMetric: ABTestMetric { abTestMetric.flatMap(ABTestMetric.init(rawValue:)) ?? .replyRate }
    public var resolvedSamplePercent: Int { abTestSamplePercent ?? Self.defaultSamplePercent }
    public var resolvedDurationMinutes: Int { abTestDurationMinutes ?? Self.defaultDurationMinutes }
    public var resolvedTrackLinks: Bool { trackLinks ?? false }
    public var isABTest: Bool { abTestEnabled ?? false }
    public var isAutoReply: Bool { autoReplyEnabled ?? false }

    /// The route of a text message: media → MMS whatever `forceRoute` says (API.md §5.2).
    public var route: MessageRoute {
        MessageRoute.resolve(forceRoute: resolvedForceRoute, hasMedia: !(mediaUrl.map(MessagingText.isBlank) ?? true))
    }

    /// The request keys of the audience sources present, in the order of API.md §5.2.
    public var audienceSourceFields: [String] {
        var fields: [String] = []
        if segmentId != nil { fields.append(CodingKeys.segmentId.stringValue) }
        if contactFilter != nil { fields.append(CodingKeys.contactFilter.stringValue) }
        if listIds != nil { fields.append(CodingKeys.listIds.stringValue) }
        if recipients != nil { fields.append(CodingKeys.recipients.stringValue) }
        return fields
    }

    /// The audience when exactly one source is given, else `nil`.
    public var audience: CampaignAudience? {
        guard audienceSourceFields.count == 1 else { return nil }
        if let segmentId { return .segment(id: segmentId) }
        if let contactFilter { return .filter(contactFilter) }
        if let listIds { return .lists(ids: listIds) }
        if let recipients { return .recipients(recipients) }
        return nil
    }

    // MARK: Codable

    enum CodingKeys: String, CodingKey {
        case name, message, mediaUrl, forceRoute, channel, fallbackChannels, normalizeUnicode
        case segmentId, contactFilter, listIds, recipients, ignoreInvalidPhoneNumbers
        case senderId, phoneNumberId, scheduledFor, timezone
        case abTestEnabled, messageVariantA, messageVariantB, abTestSamplePercent, abTestMetric
        case abTestDurationMinutes, autoReplyEnabled, yesResponse, noResponse, faqReplies
        case trackLinks, subject, template, acknowledgeDuplicateSend, draftId
    }

    /// Decodes a request body. Unknown keys are ignored (API.md §1); `phoneNumberId` is accepted
    /// as an alias of `senderId` (`senderId` wins when both are sent). Dates use the decoder's
    /// date strategy.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        mediaUrl = try c.decodeIfPresent(String.self, forKey: .mediaUrl)
        forceRoute = try c.decodeIfPresent(String.self, forKey: .forceRoute)
        channel = try c.decodeIfPresent(String.self, forKey: .channel)
        fallbackChannels = try c.decodeIfPresent([String].self, forKey: .fallbackChannels)
        normalizeUnicode = try c.decodeIfPresent(Bool.self, forKey: .normalizeUnicode)
        segmentId = try c.decodeIfPresent(String.self, forKey: .segmentId)
        contactFilter = try c.decodeIfPresent(FilterJSON.self, forKey: .contactFilter)
        if contactFilter == .null { contactFilter = nil }
        listIds = try c.decodeIfPresent([String].self, forKey: .listIds)
        recipients = try c.decodeIfPresent([InlineRecipient].self, forKey: .recipients)
        ignoreInvalidPhoneNumbers = try c.decodeIfPresent(Bool.self, forKey: .ignoreInvalidPhoneNumbers)
        senderId = try c.decodeIfPresent(String.self, forKey: .senderId)
            ?? c.decodeIfPresent(String.self, forKey: .phoneNumberId)
        scheduledFor = try c.decodeIfPresent(Date.self, forKey: .scheduledFor)
        timezone = try c.decodeIfPresent(String.self, forKey: .timezone)
        abTestEnabled = try c.decodeIfPresent(Bool.self, forKey: .abTestEnabled)
        messageVariantA = try c.decodeIfPresent(String.self, forKey: .messageVariantA)
        messageVariantB = try c.decodeIfPresent(String.self, forKey: .messageVariantB)
        abTestSamplePercent = try c.decodeIfPresent(Int.self, forKey: .abTestSamplePercent)
        abTestMetric = try c.decodeIfPresent(String.self, forKey: .abTestMetric)
        abTestDurationMinutes = try c.decodeIfPresent(Int.self, forKey: .abTestDurationMinutes)
        autoReplyEnabled = try c.decodeIfPresent(Bool.self, forKey: .autoReplyEnabled)
        yesResponse = try c.decodeIfPresent(String.self, forKey: .yesResponse)
        noResponse = try c.decodeIfPresent(String.self, forKey: .noResponse)
        faqReplies = try c.decodeIfPresent([CampaignFAQReply].self, forKey: .faqReplies)
        trackLinks = try c.decodeIfPresent(Bool.self, forKey: .trackLinks)
        subject = try c.decodeIfPresent(String.self, forKey: .subject)
        template = try c.decodeIfPresent(FilterJSON.self, forKey: .template)
        if template == .null { template = nil }
        acknowledgeDuplicateSend = try c.decodeIfPresent(Bool.self, forKey: .acknowledgeDuplicateSend)
        draftId = try c.decodeIfPresent(String.self, forKey: .draftId)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(mediaUrl, forKey: .mediaUrl)
        try c.encodeIfPresent(forceRoute, forKey: .forceRoute)
        try c.encodeIfPresent(channel, forKey: .channel)
        try c.encodeIfPresent(fallbackChannels, forKey: .fallbackChannels)
        try c.encodeIfPresent(normalizeUnicode, forKey: .normalizeUnicode)
        try c.encodeIfPresent(segmentId, forKey: .segmentId)
        try c.encodeIfPresent(contactFilter, forKey: .contactFilter)
        try c.encodeIfPresent(listIds, forKey: .listIds)
        try c.encodeIfPresent(recipients, forKey: .recipients)
        try c.encodeIfPresent(ignoreInvalidPhoneNumbers, forKey: .ignoreInvalidPhoneNumbers)
        try c.encodeIfPresent(senderId, forKey: .senderId)
        try c.encodeIfPresent(scheduledFor, forKey: .scheduledFor)
        try c.encodeIfPresent(timezone, forKey: .timezone)
        try c.encodeIfPresent(abTestEnabled, forKey: .abTestEnabled)
        try c.encodeIfPresent(messageVariantA, forKey: .messageVariantA)
        try c.encodeIfPresent(messageVariantB, forKey: .messageVariantB)
        try c.encodeIfPresent(abTestSamplePercent, forKey: .abTestSamplePercent)
        try c.encodeIfPresent(abTestMetric, forKey: .abTestMetric)
        try c.encodeIfPresent(abTestDurationMinutes, forKey: .abTestDurationMinutes)
        try c.encodeIfPresent(autoReplyEnabled, forKey: .autoReplyEnabled)
        try c.encodeIfPresent(yesResponse, forKey: .yesResponse)
        try c.encodeIfPresent(noResponse, forKey: .noResponse)
        try c.encodeIfPresent(faqReplies, forKey: .faqReplies)
        try c.encodeIfPresent(trackLinks, forKey: .trackLinks)
        try c.encodeIfPresent(subject, forKey: .subject)
        try c.encodeIfPresent(template, forKey: .template)
        try c.encodeIfPresent(acknowledgeDuplicateSend, forKey: .acknowledgeDuplicateSend)
        try c.encodeIfPresent(draftId, forKey: .draftId)
    }
}
