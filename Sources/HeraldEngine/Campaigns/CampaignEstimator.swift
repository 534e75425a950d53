import Foundation
import HeraldCore
import HeraldStore

/// What a campaign will cost and how it will be encoded, computed over the real audience
/// (API.md §5.3 estimate). Recipients are streamed in pages by key, so memory does not grow
/// with the audience; a message without merge fields is rendered once.
public struct CampaignEstimate: Sendable, Hashable {
    public var audienceSize: Int64 = 0
    public var optedOut: Int64 = 0
    public var notTextable: Int64 = 0
    public var duplicatePhone: Int64 = 0
    public var recipients: Int64 = 0
    public var route: MessageRoute = .sms
    public var encoding: MessageEncoding = .gsm7
    public var segmentsMin = 0
    public var segmentsMax = 0
    public var segmentsAvg: Double = 0
    public var totalSegments: Int64 = 0
    public var credits: Int64 = 0
    public var creditBalance: Int64 = 0
    public var sufficientCredits = true
    public var nonGsmCharacters: [String] = []
    public var sendWindowOpensAt: Date?
    public var sendWindowClosesAt: Date?

    public init() {}
}

/// An audience ready to estimate: stored (SQL) or inline recipients evaluated in memory.
public enum EstimateAudience: Sendable {
    case stored(ResolvedAudience)
    /// Inline recipients: the eligible ones (de-duplicated by phone, textable, not opted out)
    /// and how many were excluded for each reason.
    case inline([InlineRecipient], optedOut: Int64, notTextable: Int64, duplicates: Int64)
}

public struct CampaignEstimator: Sendable {
    let storage: Storage
    let pricing: CreditPricing
    /// Recipients read per grouped page (memory is bounded by this, not by the audience).
    public static let groupedPageRows = 50_000
    /// Distinct value combinations whose rendering is remembered across pages.
    public static let maxCachedRenderings = 100_000
    public static let maxNonGsmCharacters = 50

    public init(storage: Storage, pricing: CreditPricing = .standard) {
        self.storage = storage
        self.pricing = pricing
    }

    /// The templates a recipient may receive: the message, or both A/B variants (the estimate
    /// counts the larger of the two, the worst case).
    static func templates(_ fields: CampaignFields) -> [MessageTemplate] {
        if fields.isABTest {
            return [fields.messageVariantA, fields.messageVariantB].compactMap { $0 }.map { MessageTemplate(parsing: $0) }
        }
        return [MessageTemplate(parsing: fields.message ?? "")]
    }

    public func estimate(_ scope: OrganizationScope, organization: Organization, fields: CampaignFields, audience: EstimateAudience, now: Date) async throws -> CampaignEstimate {
        var e = CampaignEstimate()
        e.route = fields.route
        let channel = fields.resolvedChannel
        let normalize = fields.resolvedNormalizeUnicode
        let templates = Self.templates(fields)
        var nonGsm: [String] = []
        var nonGsmSet = Set<String>()
        var anyUCS2 = false
        var minSeg = Int.max
        var maxSeg = 0

        /// Counts one rendering for `times` recipients; returns its segments (the worst variant).
        @discardableResult
        func account(_ values: some MergeFieldValues, times: Int64) -> Int {
            var worst = 0
            for t in templates {
                var body = t.render(with: values)
                if normalize { body = SmartCharacterNormalizer.normalize(body) }
                let count = SegmentCounter.count(body)
                if count.encoding == .ucs2 {
                    anyUCS2 = true
                    if nonGsm.count < Self.maxNonGsmCharacters {
                        for ch in SegmentCounter.nonGsmCharacters(in: body) where !nonGsmSet.contains(ch) {
                            nonGsmSet.insert(ch)
                            nonGsm.append(ch)
                        }
                    }
                }
                worst = max(worst, count.segments)
            }
            account(segments: worst, times: times)
            return worst
        }

        func account(segments worst: Int, times: Int64) {
            minSeg = min(minSeg, worst)
            maxSeg = max(maxSeg, worst)
            e.totalSegments += Int64(worst) * times
            e.credits += Int64(pricing.credits(channel: channel, route: e.route, segments: worst)) * times
        }

        switch audience {
        case .stored(let resolved):
            let counts = try await storage.campaigns.audienceCounts(scope, resolved)
            e.audienceSize = counts.total
            e.optedOut = counts.optedOut
            e.notTextable = counts.notTextable
            e.recipients = counts.total - counts.optedOut - counts.notTextable
            if templates.allSatisfy({ !$0.hasFields }) {
                if e.recipients > 0 { account(MergeFieldDictionary([:]), times: e.recipients) }
            } else {
                // Only the values the templates read matter, and recipients with equal values
                // get the same message: pages of recipients come back grouped by those values,
                // and each distinct combination is rendered once (a bounded cache carries the
                // results across pages).
                let referenced = templates.flatMap { $0.referencedFields }
                let standard = StandardMergeField.allCases.filter { f in referenced.contains(.standard(f)) }
                let custom = Array(Set(referenced.compactMap { field -> String? in
                    if case .custom(let name) = field { return name }
                    return nil
                })).sorted()
                var cache: [[String?]: Int] = [:]
                var after: Int64 = 0
                while true {
                    let page = try await storage.campaigns.eligibleValueGroups(scope, resolved, afterKey: after, pageRows: Self.groupedPageRows,
                                                                               fields: standard, customFields: custom)
                    for (values, count) in page.groups {
                        let key = standard.map { values.value(for: $0) } + custom.map { values.customValue(named: $0) }
                        if let worst = cache[key] {
                            account(segments: worst, times: count)
                        } else {
                            if cache.count >= Self.maxCachedRenderings { cache.removeAll(keepingCapacity: true) }
                            cache[key] = account(values, times: count)
                        }
                    }
                    guard let last = page.lastKey else { break }
                    after = last
                    try Task.checkCancellation()
                }
            }
        case .inline(let recipients, let optedOut, let notTextable, let duplicates):
            e.audienceSize = Int64(recipients.count) + optedOut + notTextable + duplicates
            e.optedOut = optedOut
            e.notTextable = notTextable
            e.duplicatePhone = duplicates
            e.recipients = Int64(recipients.count)
            for r in recipients { account(r, times: 1) }
        }
        if e.recipients > 0 {
            e.segmentsMin = minSeg == Int.max ? 0 : minSeg
            e.segmentsMax = maxSeg
            e.segmentsAvg = (Double(e.totalSegments) / Double(e.recipients) * 100).rounded() / 100
        }
        e.encoding = anyUCS2 ? .ucs2 : .gsm7
        e.nonGsmCharacters = nonGsm
        e.creditBalance = organization.creditBalance
        e.sufficientCredits = organization.billingMode == .unlimited || e.credits <= organization.creditBalance
        // The send window over the recipients' zones, chosen as the dispatcher chooses them
        // (`RecipientZones`): it opens when the first of them may be messaged.
        if let window = try? SendWindow.parse(start: organization.quietHoursStart, end: organization.quietHoursEnd) {
            let start = max(now, fields.scheduledFor ?? now)
            let zoneSets = try await recipientZoneSets(scope, organization: organization, fields: fields, audience: audience)
            let status = window.audienceStatus(at: start, zoneSets: zoneSets)
            e.sendWindowOpensAt = status.isOpen ? start : status.opensAt
            e.sendWindowClosesAt = status.closesAt
        }
        return e
    }

    /// The distinct zone sets of the audience's recipients (the organization's zone alone when
    /// there are none, or when the campaign names a zone: then every recipient uses that one).
    func recipientZoneSets(_ scope: OrganizationScope, organization: Organization, fields: CampaignFields, audience: EstimateAudience) async throws -> [[TimeZone]] {
        let orgZone = TimeZone(identifier: organization.timezone) ?? TimeZone(identifier: "UTC")!
        if let zone = fields.timezone.flatMap(TimeZone.init(identifier:)) { return [[zone]] }
        let kinds: [(timezone: String?, phone: String)]
        switch audience {
        case .stored(let resolved): kinds = try await storage.campaigns.audienceZoneGroups(scope, resolved)
        case .inline(let recipients, _, _, _): kinds = recipients.prefix(10_000).compactMap { r in r.phone.map { (r.timezone, $0) } }
        }
        var seen = Set<[String]>()
        var sets: [[TimeZone]] = []
        for kind in kinds {
            let zones = RecipientZones.zones(campaignZone: nil, contactZone: kind.timezone, phone: kind.phone,
                                             defaultRegion: organization.defaultCountry, organizationZone: orgZone)
            if seen.insert(zones.map(\.identifier)).inserted { sets.append(zones) }
        }
        return sets.isEmpty ? [[orgZone]] : sets
    }
}
