import Foundation
import HeraldCore
import HeraldStore

/// Test sends of a campaign (API.md §5.3 `POST /api/campaigns/{id}/test`): real messages to at
/// most five phones through the campaign's sender, rendered with the given merge fields (over
/// the recipient's own contact values when the phone is a contact), normalized like the
/// campaign. They never touch the campaign's recipients or counters; in credits billing an
/// accepted test message is charged like any other, with its own ledger entry.
public struct CampaignTestSender: Sendable {
    let storage: Storage
    let providers: ProviderRegistry
    let pricing: CreditPricing

    /// At most this many phones per request (API.md §5.3).
    public static let maxRecipients = 5

    public init(storage: Storage, providers: ProviderRegistry, pricing: CreditPricing = .standard) {
        self.storage = storage
        self.providers = providers
        self.pricing = pricing
    }

    /// What to send: E.164 phones, the message (nil: the campaign's, or its variant A) and media.
    public struct Request: Sendable {
        public var to: [String]
        public var message: String?
        public var mediaUrl: String?
        public var mergeFields: [String: String]

        public init(to: [String], message: String?, mediaUrl: String?, mergeFields: [String: String]) {
            self.to = to
            self.message = message
            self.mediaUrl = mediaUrl
            self.mergeFields = mergeFields
        }
    }

    /// In credits billing the balance does not cover the test messages (nothing was sent).
    public struct InsufficientCredits: Error, Sendable {
        public var needed: Int64
        public var balance: Int64
    }

    /// One phone's result.
    public struct Result: Sendable, Hashable {
        public var to: String
        public var sent: Bool
        public var messageId: String
        public var body: String
        public var encoding: MessageEncoding
        public var segments: Int
        public var error: String?
    }

    /// Sends `request` for `campaign` through `sender`; one result per phone, in order.
    public func send(_ scope: OrganizationScope, organization: Organization, campaign: CampaignRecord, sender: Sender, request: Request) async throws -> [Result] {
        let fields = campaign.fields
        let template = MessageTemplate(parsing: request.message ?? fields.message ?? fields.messageVariantA ?? "")
        let mediaUrl = request.mediaUrl ?? fields.mediaUrl
        let channel = fields.resolvedChannel
        let route = MessageRoute.resolve(forceRoute: fields.resolvedForceRoute, hasMedia: mediaUrl != nil)
        let provider = providers.provider(named: sender.provider)
        var results: [Result] = []
        var outbound: [(index: Int, message: OutboundMessage, credits: Int)] = []
        for phone in request.to {
            let contact = try await storage.contacts.find(scope, phone: phone)
            var body = template.render(with: OverlaidValues(given: request.mergeFields, contact: contact))
            if fields.resolvedNormalizeUnicode { body = SmartCharacterNormalizer.normalize(body) }
            let count = SegmentCounter.count(body)
            let id = "ht-\(UUID().uuidString.lowercased())"
            var result = Result(to: phone, sent: false, messageId: id, body: body, encoding: count.encoding, segments: count.segments, error: nil)
            if let contact, !contact.isOptedIn {
                result.error = "opted_out"
            } else if body.count > CampaignFields.maxMessageLength {
                // Merge values can make a body longer than any carrier takes (DOMAIN.md §1.4).
                result.error = "message_too_long"
            } else if provider == nil {
                result.error = "provider_unavailable"
            } else {
                let credits = pricing.credits(channel: channel, route: route, segments: count.segments)
                outbound.append((results.count, OutboundMessage(messageId: id, organizationId: scope.id, channel: channel, from: sender.address, to: phone,
                                                                body: body, mediaUrl: mediaUrl, encoding: count.encoding, segments: count.segments), credits))
            }
            results.append(result)
        }
        guard let provider, !outbound.isEmpty else { return results }
        // Credits billing: the messages' credits are taken before anything is sent, never below
        // zero, and the credits of messages the carrier refuses are given back.
        let billed = organization.billingMode == .credits
        let needed = outbound.reduce(Int64(0)) { $0 + Int64($1.credits) }
        if billed, needed > 0 {
            guard try await storage.organizations.addCredits(scope, amount: -needed, reason: "campaign test messages", campaignId: campaign.id, floor: 0) != nil else {
                throw InsufficientCredits(needed: needed, balance: try await storage.organizations.get(scope).creditBalance)
            }
        }
        let accepted = await provider.submitBatch(outbound.map(\.message))
        var refund: Int64 = 0
        for (item, outcome) in zip(outbound, accepted) {
            switch outcome {
            case .success:
                results[item.index].sent = true
            case .failure(let error):
                results[item.index].error = error.code
                refund += Int64(item.credits)
            }
        }
        if billed && refund > 0 {
            _ = try await storage.organizations.addCredits(scope, amount: refund, reason: "campaign test messages the carrier refused", campaignId: campaign.id)
        }
        return results
    }
}

/// Merge values given in a test request over the recipient contact's own (when it is one).
struct OverlaidValues: MergeFieldValues {
    let given: [String: String]
    let contact: Contact?

    func value(for field: StandardMergeField) -> String? { given[field.rawValue] ?? contact?.value(for: field) }
    func customValue(named name: String) -> String? { given[name] ?? contact?.customValue(named: name) }
}
