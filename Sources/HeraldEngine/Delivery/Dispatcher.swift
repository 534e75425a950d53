import Foundation
import HeraldCore
import HeraldStore
import Logging
import Metrics
import PhoneNumbers
import ServiceLifecycle
import Synchronization

/// Sends claimed messages (API.md §5.1 `sending`): renders each body at dispatch, checks quiet
/// hours per recipient, takes tokens from the sender's bucket (segments for SMS), submits in
/// batches, and records every outcome. Campaigns are served round-robin, one batch each per
/// pass, so a huge campaign cannot starve a small one.
final class Dispatcher: Sendable {
    let storage: Storage
    let providers: ProviderRegistry
    let configuration: DeliveryConfiguration
    let logger: Logger
    let clock: @Sendable () -> Date
    let owner: String
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let rotation = Mutex<Int>(0)

    init(storage: Storage, providers: ProviderRegistry, configuration: DeliveryConfiguration, logger: Logger, clock: @escaping @Sendable () -> Date, owner: String) {
        self.storage = storage
        self.providers = providers
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.owner = owner
    }

    func run() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var sent = 0
            do {
                sent = try await pass()
            } catch {
                logger.error("dispatch pass failed", metadata: ["error": "\(error)"])
            }
            if sent == 0 { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// One round over the sending campaigns: at most one batch each. Returns messages handled.
    @discardableResult
    func pass() async throws -> Int {
        let campaigns = try await storage.delivery.sendingCampaigns()
        guard !campaigns.isEmpty else { return 0 }
        let start = rotation.withLock { r -> Int in r += 1; return r } % campaigns.count
        var handled = 0
        for i in 0..<campaigns.count {
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            handled += try await dispatchBatch(campaigns[(start + i) % campaigns.count])
        }
        return handled
    }

    func nowMillis() -> Int64 { Int64((clock().timeIntervalSince1970 * 1000).rounded()) }

    /// The token buckets' clock (`DeliveryConfiguration.ratePacer`).
    func monotonicSeconds() -> Double { configuration.ratePacer.now() }

    /// Waits until the sender's bucket has `cost` tokens, then takes them.
    func takeTokens(sender: Sender, cost: Double) async throws {
        let rate = max(sender.maxPerSecond, 0.001)
        while true {
            let now = monotonicSeconds()
            let wait: Double = buckets.withLock { table in
                var bucket = table[sender.id] ?? TokenBucket(ratePerSecond: rate, capacity: max(rate, 1), now: now)
                if bucket.ratePerSecond != rate { bucket = TokenBucket(ratePerSecond: rate, capacity: max(rate, 1), now: now) }
                defer { table[sender.id] = bucket }
                if bucket.tryTake(cost: cost, now: now) { return 0 }
                return max(0.001, bucket.timeUntilAvailable(cost: cost, now: now))
            }
            if wait == 0 { return }
            try await configuration.ratePacer.sleep(wait)
        }
    }

    func backoff(attempts: Int, retryAfter: Duration?) -> Int64 {
        if let retryAfter { return max(1, retryAfter.components.seconds * 1000 + retryAfter.components.attoseconds / 1_000_000_000_000_000) }
        let base = Double(configuration.baseBackoff.components.seconds * 1000) + Double(configuration.baseBackoff.components.attoseconds) / 1e15
        let cap = Double(configuration.maxBackoff.components.seconds * 1000)
        let delay = min(cap, base * pow(2, Double(max(0, attempts - 1))))
        return Int64(delay * Double.random(in: 0.75...1.25))
    }

    func dispatchBatch(_ work: DeliveryStore.Work) async throws -> Int {
        let fields = work.fields
        let channel = fields.resolvedChannel
        let sender: Sender?
        if let id = fields.senderId { sender = try? await storage.senders.get(work.scope, id: id) }
        else { sender = try await storage.senders.defaultSender(work.scope, channel: channel) }
        guard let sender else {
            try await storage.campaigns.fail(work.key, reason: "The campaign has no sender for channel \(channel.rawValue).")
            return 0
        }
        guard let provider = providers.provider(named: sender.provider) else {
            try await storage.campaigns.fail(work.key, reason: "The sender's provider \(sender.provider) is not configured.")
            return 0
        }
        providers.remember(campaign: work.key, provider: provider.name)
        let limit = min(configuration.batchSize, max(1, Int(sender.maxPerSecond.rounded(.down))))
        let now = nowMillis()
        let claimed = try await storage.delivery.claim(campaignKey: work.key, owner: owner, now: now, limit: limit,
                                                      includeAwaitingWinner: work.abTestWinner != nil || !fields.isABTest)
        guard !claimed.isEmpty else { return 0 }

        let org = try await storage.organizations.get(work.scope)
        let templates = Templates(fields: fields, winner: work.abTestWinner)
        let recipients = try await storage.delivery.recipients(work.scope, keys: claimed.map(\.contactKey), customFields: templates.customFields)
        let window = (try? SendWindow.parse(start: org.quietHoursStart, end: org.quietHoursEnd)) ?? .tcpa
        let campaignZone = fields.timezone.flatMap(TimeZone.init(identifier:))
        let orgZone = TimeZone(identifier: org.timezone) ?? TimeZone(identifier: "UTC")!
        let nowDate = clock()
        var windowCache: [String: SendWindowStatus] = [:]
        var outcomes: [(DeliveryStore.Claimed, DeliveryStore.Outcome)] = []
        var outbound: [(DeliveryStore.Claimed, OutboundMessage, cost: Int)] = []
        var nextOpening: Int64?
        var tokens = 0.0

        for m in claimed {
            guard let (values, optedOut) = recipients[m.contactKey] else {
                outcomes.append((m, .skipped(reason: "contact_deleted")))
                continue
            }
            if optedOut {
                outcomes.append((m, .skipped(reason: "opted_out")))
                continue
            }
            // Quiet hours in the campaign's zone, else the contact's, else the number's, else
            // the organization's; with several candidate zones, only inside all of them.
            var zones: [TimeZone]
            if let campaignZone { zones = [campaignZone] }
            else if let z = values.timezone.flatMap(TimeZone.init(identifier:)) { zones = [z] }
            else if let number = try? PhoneNumberKit.shared.parse(m.phone, defaultRegion: org.defaultCountry) {
                zones = PhoneNumberKit.shared.timeZones(for: number).compactMap(TimeZone.init(identifier:))
                if zones.isEmpty { zones = [orgZone] }
            } else { zones = [orgZone] }
            let zoneKey = zones.map(\.identifier).joined(separator: ",")
            let status = windowCache[zoneKey] ?? window.status(at: nowDate, in: zones)
            windowCache[zoneKey] = status
            if !status.isOpen {
                let opens = status.opensAt.map { Int64($0.timeIntervalSince1970 * 1000) } ?? (now + 3_600_000)
                nextOpening = min(nextOpening ?? opens, opens)
                outcomes.append((m, .deferred(until: opens, code: nil, message: nil, countsAsAttempt: false)))
                continue
            }
            var body = templates.template(for: m.variant).render(with: values)
            if fields.resolvedNormalizeUnicode { body = SmartCharacterNormalizer.normalize(body) }
            let count = SegmentCounter.count(body)
            let route = fields.route
            let cost = configuration.pricing.credits(channel: channel, route: route, segments: count.segments)
            tokens += Double(channel == .text && route == .sms ? max(1, count.segments) : 1)
            outbound.append((m, OutboundMessage(messageId: m.messageId, organizationId: work.scope.id, channel: channel, from: sender.address, to: m.phone,
                                                body: body, mediaUrl: fields.mediaUrl, encoding: count.encoding, segments: count.segments), cost))
        }

        if !outbound.isEmpty {
            try await takeTokens(sender: sender, cost: tokens)
            let results = await provider.submitBatch(outbound.map(\.1))
            for ((m, message, cost), result) in zip(outbound, results) {
                switch result {
                case .success(let accepted):
                    outcomes.append((m, .sent(providerMessageId: accepted.providerMessageId, body: message.body, encoding: message.encoding.rawValue, segments: message.segments, credits: cost)))
                case .failure(let error):
                    if error.retryable && m.attempts < configuration.maxAttempts {
                        outcomes.append((m, .deferred(until: now + backoff(attempts: m.attempts, retryAfter: error.retryAfter), code: error.code, message: error.message, countsAsAttempt: true)))
                    } else {
                        outcomes.append((m, .failed(code: error.code, message: error.message, body: message.body, encoding: message.encoding.rawValue, segments: message.segments)))
                    }
                }
            }
        }
        try await storage.delivery.record(work, owner: owner, outcomes: outcomes, chargeCredits: org.billingMode == .credits, now: nowMillis())
        if let nextOpening { try await storage.delivery.setNextSendAt(work.key, nextOpening) }
        else if !outbound.isEmpty { try await storage.delivery.setNextSendAt(work.key, nil) }
        Counter(label: "herald_messages_dispatched_total", dimensions: [("provider", provider.name)]).increment(by: outbound.count)
        return outbound.count
    }
}

/// The compiled templates of a campaign: the message, or the A/B variants and the winner.
struct Templates {
    let message: MessageTemplate
    let variantA: MessageTemplate?
    let variantB: MessageTemplate?
    let winner: String?
    let customFields: [String]

    init(fields: CampaignFields, winner: String?) {
        message = MessageTemplate(parsing: fields.message ?? fields.messageVariantA ?? "")
        variantA = fields.isABTest ? fields.messageVariantA.map { MessageTemplate(parsing: $0) } : nil
        variantB = fields.isABTest ? fields.messageVariantB.map { MessageTemplate(parsing: $0) } : nil
        self.winner = winner
        let all = [message, variantA, variantB].compactMap { $0 }
        customFields = Array(Set(all.flatMap { $0.referencedFields }.compactMap { f -> String? in
            if case .custom(let name) = f { return name }
            return nil
        })).sorted()
    }

    func template(for variant: String?) -> MessageTemplate {
        switch variant {
        case "A": return variantA ?? message
        case "B": return variantB ?? message
        case "W": return (winner == "B" ? variantB : variantA) ?? message
        default: return message
        }
    }
}
