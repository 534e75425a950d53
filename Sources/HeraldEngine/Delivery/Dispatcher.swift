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
    let failures: CampaignFailures
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let rotation = Mutex<Int>(0)

    init(storage: Storage, providers: ProviderRegistry, configuration: DeliveryConfiguration, logger: Logger, clock: @escaping @Sendable () -> Date, owner: String,
         failures: CampaignFailures) {
        self.failures = failures
        self.storage = storage
        self.providers = providers
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.owner = owner
    }

    /// The service loop: a three-stage pipeline over rounds of batches (one batch per sending
    /// campaign per round, round-robin). While the provider works on round n, the single
    /// database writer records round n-1 and claims and renders round n+1, so neither the
    /// provider nor the database waits for the other. Every stage keeps the guarantees of a
    /// sequential pass: a claim is durable before its messages are submitted, and each outcome
    /// is a guarded update of a row this worker still owns.
    func run() async {
        var claimed: [PreparedBatch] = []     // claimed and rendered, not yet submitted
        var submitted: [PreparedBatch] = []   // submitted, outcome not yet recorded
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let toSubmit = claimed
            let toRecord = submitted
            async let done = submitAll(toSubmit)
            var next: [PreparedBatch] = []
            var unrecorded: [PreparedBatch] = []
            do {
                unrecorded = await recordAll(toRecord)
                next = try await prepareRound()
            } catch {
                logger.error("dispatch pass failed", metadata: ["error": "\(error)"])
            }
            submitted = unrecorded + (await done)
            claimed = next
            let handled = toSubmit.reduce(0) { $0 + $1.outbound.count }
            if handled == 0 && claimed.isEmpty && submitted.isEmpty { try? await Task.sleep(for: .milliseconds(50)) }
        }
        // Stopping: what was submitted is recorded; what was claimed but never handed to a
        // provider goes back to `queued` (it was not sent, so it must not count as in doubt).
        let unrecorded = await recordAll(submitted)
        if !unrecorded.isEmpty {
            logger.error("outcomes not recorded at shutdown; recovery will resolve them", metadata: ["messages": "\(unrecorded.reduce(0) { $0 + $1.outbound.count })"])
        }
        for batch in claimed {
            do {
                try await storage.delivery.record(batch.work, owner: owner, outcomes: batch.claimed.map { ($0, .deferred(until: 0, code: nil, message: nil, countsAsAttempt: false)) },
                                                  chargeCredits: false, now: nowMillis())
            } catch {
                logger.error("claims not released at shutdown; recovery will resolve them", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Submits each batch to its provider (batches of different campaigns one after another).
    func submitAll(_ batches: [PreparedBatch]) async -> [PreparedBatch] {
        var out: [PreparedBatch] = []
        out.reserveCapacity(batches.count)
        for var batch in batches {
            await submit(&batch)
            out.append(batch)
        }
        return out
    }

    /// Records each batch; returns those whose recording failed (retried next round: the
    /// updates are guarded, so a retry cannot count anything twice).
    func recordAll(_ batches: [PreparedBatch]) async -> [PreparedBatch] {
        var failed: [PreparedBatch] = []
        for batch in batches {
            do {
                try await record(batch)
            } catch {
                logger.error("dispatch outcomes not recorded", metadata: ["error": "\(error)", "campaign": "\(batch.work.id)"])
                failed.append(batch)
            }
        }
        return failed
    }

    /// Claims and renders one batch of each sending campaign, round-robin. A campaign whose
    /// preparation fails does not stop the round: the other campaigns' batches go on, and the
    /// failed one's claims come back as a batch that only gives them back (`queued`), recorded
    /// with the round like any other (`CampaignFailures` decides whether the campaign fails).
    func prepareRound() async throws -> [PreparedBatch] {
        let campaigns = try await storage.delivery.sendingCampaigns()
        guard !campaigns.isEmpty else { return [] }
        let start = rotation.withLock { r -> Int in r += 1; return r } % campaigns.count
        var batches: [PreparedBatch] = []
        for i in 0..<campaigns.count {
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let (batch, release) = await prepareIsolated(campaigns[(start + i) % campaigns.count])
            if let batch { batches.append(batch) }
            if let release { batches.append(release) }
        }
        return batches
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
            let (prepared, release) = await prepareIsolated(campaigns[(start + i) % campaigns.count])
            if let release { try await record(release) }
            guard var batch = prepared else { continue }
            await submit(&batch)
            try await record(batch)
            handled += batch.outbound.count
        }
        return handled
    }

    /// `prepare` with the campaign's failure kept to itself: either its batch (nil when nothing
    /// is due), or, when preparing failed after messages were claimed, a batch giving those
    /// claims back. The failure goes to `CampaignFailures`.
    func prepareIsolated(_ work: DeliveryStore.Work) async -> (batch: PreparedBatch?, release: PreparedBatch?) {
        do {
            let batch = try await prepare(work)
            failures.succeeded(work.key)
            return (batch, nil)
        } catch let failure as PrepareFailure {
            await failures.failed(work, stage: .dispatch, error: failure.underlying)
            return (nil, failure.release)
        } catch {
            await failures.failed(work, stage: .dispatch, error: error)
            return (nil, nil)
        }
    }

    /// Preparing a batch failed after its messages were claimed: `release` gives them back.
    struct PrepareFailure: Error {
        var release: PreparedBatch
        var underlying: any Error
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

    /// A claimed batch of one campaign on its way through the pipeline.
    struct PreparedBatch: Sendable {
        var work: DeliveryStore.Work
        var provider: any MessageProvider
        var sender: Sender
        var chargeCredits: Bool
        var now: Int64
        var claimed: [DeliveryStore.Claimed]
        var outcomes: [(DeliveryStore.Claimed, DeliveryStore.Outcome)]
        var outbound: [(DeliveryStore.Claimed, OutboundMessage, cost: Int)]
        /// Tokens the batch takes from the sender's bucket: segments for SMS, one per message
        /// otherwise.
        var tokens: Double {
            let bySegments = work.fields.resolvedChannel == .text && work.fields.route == .sms
            return outbound.reduce(0) { $0 + Double(bySegments ? max(1, $1.1.segments) : 1) }
        }
        var nextOpening: Int64?
        /// The balance that did not cover the whole batch: the campaign pauses when it is recorded.
        var creditsRanOut: Int64? = nil
        /// The batch's hold on the prepaid credits, released when it is recorded.
        var creditHold: Int64? = nil
    }

    /// Claims a batch of the campaign and renders it: messages whose contact is deleted, opted
    /// out or no longer has the message's phone become skipped (`DeliveryStore.checkRecipients`),
    /// closed send windows deferred, the rest outbound messages. Nil when nothing is due.
    func prepare(_ work: DeliveryStore.Work) async throws -> PreparedBatch? {
        let fields = work.fields
        let channel = fields.resolvedChannel
        let sender: Sender?
        if let id = fields.senderId { sender = try? await storage.senders.get(work.scope, id: id) }
        else { sender = try await storage.senders.defaultSender(work.scope, channel: channel) }
        guard let sender else {
            try await storage.campaigns.fail(work.key, reason: "The campaign has no sender for channel \(channel.rawValue).")
            return nil
        }
        guard let provider = providers.provider(named: sender.provider) else {
            try await storage.campaigns.fail(work.key, reason: "The sender's provider \(sender.provider) is not configured.")
            return nil
        }
        providers.remember(campaign: work.key, provider: provider.name)
        let limit = min(configuration.batchSize, max(1, Int(sender.maxPerSecond.rounded(.down))))
        let now = nowMillis()
        let claimed = try await storage.delivery.claim(campaignKey: work.key, owner: owner, now: now, limit: limit,
                                                      includeAwaitingWinner: work.abTestWinner != nil || !fields.isABTest)
        guard !claimed.isEmpty else { return nil }
        var batch = PreparedBatch(work: work, provider: provider, sender: sender, chargeCredits: false, now: now,
                                  claimed: claimed, outcomes: [], outbound: [], nextOpening: nil)
        do {
            try await render(&batch)
        } catch {
            // The claims must not stay `sending` under this live worker until a restart: give
            // them back (and the credits they hold), like a batch released before submission.
            var release = batch
            release.outbound = []
            release.nextOpening = nil
            release.creditsRanOut = nil
            release.outcomes = claimed.map { ($0, .deferred(until: 0, code: nil, message: nil, countsAsAttempt: false)) }
            throw PrepareFailure(release: release, underlying: error)
        }
        return batch
    }

    /// Renders a claimed batch: checks each recipient, defers those outside their send window,
    /// renders the rest, and in credits mode keeps what the balance covers.
    func render(_ batch: inout PreparedBatch) async throws {
        let work = batch.work
        let fields = work.fields
        let channel = fields.resolvedChannel
        let claimed = batch.claimed
        let now = batch.now
        let org = try await storage.organizations.get(work.scope)
        batch.chargeCredits = org.billingMode == .credits
        let templates = Templates(fields: fields, winner: work.abTestWinner)
        let checks = try await storage.delivery.checkRecipients(work.scope, claimed: claimed, customFields: templates.customFields)
        let window = (try? SendWindow.parse(start: org.quietHoursStart, end: org.quietHoursEnd)) ?? .tcpa
        let campaignZone = fields.timezone.flatMap(TimeZone.init(identifier:))
        let orgZone = TimeZone(identifier: org.timezone) ?? TimeZone(identifier: "UTC")!
        let nowDate = clock()
        var windowCache: [String: SendWindowStatus] = [:]
        batch.outbound.reserveCapacity(claimed.count)

        for m in claimed {
            let values: RecipientValues
            switch checks[m.key] ?? .skip(reason: "contact_deleted") {
            case .send(let v): values = v
            case .skip(let reason):
                batch.outcomes.append((m, .skipped(reason: reason)))
                continue
            }
            let zones = RecipientZones.zones(campaignZone: campaignZone, contactZone: values.timezone, phone: m.phone,
                                             defaultRegion: org.defaultCountry, organizationZone: orgZone)
            let zoneKey = zones.map(\.identifier).joined(separator: ",")
            let status = windowCache[zoneKey] ?? window.status(at: nowDate, in: zones)
            windowCache[zoneKey] = status
            if !status.isOpen {
                let opens = status.opensAt.map { Int64($0.timeIntervalSince1970 * 1000) } ?? (now + 3_600_000)
                batch.nextOpening = min(batch.nextOpening ?? opens, opens)
                batch.outcomes.append((m, .deferred(until: opens, code: nil, message: nil, countsAsAttempt: false)))
                continue
            }
            var body = templates.template(for: m.variant).render(with: values)
            if fields.resolvedNormalizeUnicode { body = SmartCharacterNormalizer.normalize(body) }
            let count = SegmentCounter.count(body)
            let route = fields.route
            let cost = configuration.pricing.credits(channel: channel, route: route, segments: count.segments)
            batch.outbound.append((m, OutboundMessage(messageId: m.messageId, organizationId: work.scope.id, channel: channel, from: batch.sender.address, to: m.phone,
                                                      body: body, mediaUrl: fields.mediaUrl, encoding: count.encoding, segments: count.segments), cost))
        }
        if batch.chargeCredits { try await keepAffordable(&batch) }
    }

    /// Prepaid credits: sends, in order, only the messages the organization's balance still
    /// covers once every other claimed batch's hold is set aside, and holds their cost until
    /// the batch is recorded (`DeliveryStore.holdCredits`), so batches in flight side by side
    /// never spend the same credits. The rest go back to `queued` and the campaign is paused
    /// with the reason, so nothing is sent on credit; adding credits and resuming continues it.
    /// The pause comes with the batch's recording, after the covered messages went out.
    func keepAffordable(_ batch: inout PreparedBatch) async throws {
        guard !batch.outbound.isEmpty else { return }
        let hold = try await storage.delivery.holdCredits(batch.work, owner: owner, costs: batch.outbound.map(\.cost), now: batch.now)
        batch.creditHold = hold.key
        let cut = hold.covered
        guard cut < batch.outbound.count else { return }
        for (m, _, _) in batch.outbound[cut...] {
            batch.outcomes.append((m, .deferred(until: 0, code: nil, message: nil, countsAsAttempt: false)))
        }
        batch.outbound.removeSubrange(cut...)
        batch.creditsRanOut = hold.available
    }

    /// Takes the sender's tokens and hands the batch's messages to its provider; their
    /// outcomes join the batch's. Never throws: a provider's errors are outcomes.
    func submit(_ batch: inout PreparedBatch) async {
        guard !batch.outbound.isEmpty else { return }
        do {
            try await takeTokens(sender: batch.sender, cost: batch.tokens)
        } catch {
            // Cancelled while waiting for tokens: nothing was submitted.
            release(&batch)
            return
        }
        // Checked after the wait for tokens, right before the provider: a campaign paused,
        // cancelled or ended since the batch was claimed (a round ago, or while it waited)
        // sends none of it. Released messages go back to `queued`: a resume sends them, and
        // the recording of a campaign that ended cancels them (`DeliveryStore.record`).
        if let status = try? await storage.delivery.status(batch.work), status != .sending {
            release(&batch)
            return
        }
        let results = await batch.provider.submitBatch(batch.outbound.map(\.1))
        for ((m, message, cost), result) in zip(batch.outbound, results) {
            switch result {
            case .success(let accepted):
                batch.outcomes.append((m, .sent(providerMessageId: accepted.providerMessageId, body: message.body, encoding: message.encoding.rawValue, segments: message.segments, credits: cost)))
            case .failure(let error):
                if error.retryable && m.attempts < configuration.maxAttempts {
                    batch.outcomes.append((m, .deferred(until: batch.now + backoff(attempts: m.attempts, retryAfter: error.retryAfter), code: error.code, message: error.message, countsAsAttempt: true)))
                } else {
                    batch.outcomes.append((m, .failed(code: error.code, message: error.message, body: message.body, encoding: message.encoding.rawValue, segments: message.segments)))
                }
            }
        }
    }

    /// Gives the batch's unsubmitted messages back (`queued`, due at once, the claim not
    /// counted as an attempt).
    func release(_ batch: inout PreparedBatch) {
        for (m, _, _) in batch.outbound {
            batch.outcomes.append((m, .deferred(until: 0, code: nil, message: nil, countsAsAttempt: false)))
        }
        batch.outbound = []
    }

    /// Records a submitted batch's outcomes, counters and `nextSendAt` in one transaction.
    func record(_ batch: PreparedBatch) async throws {
        let nextSendAt: DeliveryStore.NextSendAt = batch.nextOpening.map { .at($0) } ?? (batch.outbound.isEmpty ? .unchanged : .clear)
        let lost = try await storage.delivery.record(batch.work, owner: owner, outcomes: batch.outcomes, chargeCredits: batch.chargeCredits,
                                                     creditHold: batch.creditHold, now: nowMillis(), nextSendAt: nextSendAt)
        if lost > 0 {
            // Another worker recovered these claims (this one looked dead): its outcome stands.
            logger.warning("outcomes of messages no longer claimed by this worker were left alone", metadata: ["campaign": "\(batch.work.id)", "messages": "\(lost)"])
        }
        Counter(label: "herald_messages_dispatched_total", dimensions: [("provider", batch.provider.name)]).increment(by: batch.outbound.count)
        if let balance = batch.creditsRanOut {
            try await storage.campaigns.pauseForCredits(batch.work.key, balance: balance)
            logger.warning("campaign paused: the organization's credits ran out", metadata: ["campaign": "\(batch.work.id)", "balance": "\(balance)"])
        }
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
