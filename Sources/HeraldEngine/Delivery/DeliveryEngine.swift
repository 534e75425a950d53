import Foundation
import HeraldCore
import HeraldStore
import Logging
import Metrics
import PhoneNumbers
import ServiceLifecycle
import Synchronization

/// Settings of the delivery engine.
public struct DeliveryConfiguration: Sendable {
    /// Campaigns an organization may run at once; the rest wait in `pending` (API.md §5.1).
    public var maxRunningPerOrganization = 2
    /// Messages claimed per batch. A batch never holds more than one second of its sender's
    /// rate (`Dispatcher.prepare`), so this only matters for senders faster than it: it bounds
    /// what one statement claims and records, and what a crash can leave in flight.
    public var batchSize = 4000
    /// Attempts before a retryable error becomes a failure.
    public var maxAttempts = 5
    /// First retry delay; doubles each attempt, with jitter, up to `maxBackoff`.
    public var baseBackoff: Duration = .seconds(2)
    public var maxBackoff: Duration = .seconds(300)
    /// How often the control loop (schedule, admit, fan out, complete, recover) runs.
    public var controlInterval: Duration = .milliseconds(250)
    /// A worker whose heartbeat is older than this is dead; its claims are taken over.
    public var workerTTL: Duration = .seconds(15)
    /// A campaign whose fan-out or batch preparation fails this many times in a row with an
    /// error that is not transient ends `failed` (`CampaignFailures`); transient database
    /// errors are retried without limit.
    public var maxCampaignFailures = 3
    /// Credit prices.
    public var pricing: CreditPricing = .standard
    /// The clock of the per-sender token buckets (a simulated one in tests).
    public var ratePacer: RatePacer = .continuous

    public init() {}
}

/// The delivery engine (ARCHITECTURE.md "Durability", "Rate and fairness", "Time"): one
/// `Service` running the control loop (scheduler tick under a lease, admission, fan-out,
/// A/B winners, completion, recovery of dead workers' claims), the dispatcher, and the receipt
/// consumers. Everything it does is a guarded change of recipient rows, so it can be killed
/// at any instant and started again.
public final class DeliveryEngine: Service, Sendable {
    let storage: Storage
    /// The providers messages go through (test sends use them too).
    public let providers: ProviderRegistry
    let configuration: DeliveryConfiguration
    let logger: Logger
    let clock: @Sendable () -> Date
    public let workerId: String
    let dispatcher: Dispatcher
    let failures: CampaignFailures

    public init(storage: Storage, providers: ProviderRegistry, configuration: DeliveryConfiguration = DeliveryConfiguration(),
                logger: Logger = Logger(label: "herald.engine"), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.providers = providers
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.workerId = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        self.failures = CampaignFailures(storage: storage, logger: logger, limit: configuration.maxCampaignFailures)
        self.dispatcher = Dispatcher(storage: storage, providers: providers, configuration: configuration, logger: logger, clock: clock, owner: workerId,
                                     failures: failures)
    }

    func nowMillis() -> Int64 { Int64((clock().timeIntervalSince1970 * 1000).rounded()) }

    public func run() async throws {
        // Claims left by this machine's previous run (or any dead worker) are recovered first.
        try await recover(includingAll: false)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeatLoop() }
            group.addTask { await self.controlLoop() }
            group.addTask { await self.dispatcher.run() }
            group.addTask { await self.runReceiptConsumers() }
        }
    }

    /// Applies every provider's receipts until they end (or the task is cancelled).
    public func runReceiptConsumers() async {
        await withDiscardingTaskGroup { group in
            for source in providers.receiptSources {
                group.addTask { await self.consumeReceipts(source) }
            }
        }
    }

    // MARK: control

    func controlLoop() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await controlTick()
            } catch {
                logger.error("engine control tick failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.controlInterval)
        }
    }

    /// Renews this worker's heartbeat on its own schedule: a control pass that takes long (a
    /// large fan-out, a busy database) must not make a live worker look dead to the others,
    /// which would take over its in-flight claims.
    func heartbeatLoop() async {
        let ttl = Int64(configuration.workerTTL.components.seconds * 1000)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                _ = try await storage.delivery.heartbeat(worker: workerId, now: nowMillis(), ttl: ttl)
            } catch {
                logger.error("worker heartbeat failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.workerTTL / 5)
        }
    }

    /// One pass of the control loop; public so tests can drive the engine step by step.
    public func controlTick() async throws {
        let now = nowMillis()
        let delivery = storage.delivery
        let ttl = Int64(configuration.workerTTL.components.seconds * 1000)
        let alive = try await delivery.heartbeat(worker: workerId, now: now, ttl: ttl)
        if try await delivery.lease("scheduler", owner: workerId, now: now, ttl: ttl) {
            try await delivery.releaseDueScheduled(now: now)
            try await delivery.chooseDueWinners(now: now)
            _ = try await delivery.recoverInFlight(alive: alive, providerDeduplicates: providers.deduplicates(campaign:), now: now)
        }
        _ = try await delivery.admit(maxRunning: configuration.maxRunningPerOrganization, now: now)
        for work in try await delivery.queuedCampaigns() {
            // One campaign's failure stays its own: the others still fan out, and receipts and
            // completion below still run (`CampaignFailures`).
            do {
                try await fanOut(work, now: now)
                failures.succeeded(work.key)
            } catch {
                await failures.failed(work, stage: .fanOut, error: error)
            }
        }
        try await delivery.applyUnmatchedReceipts()
        try await delivery.completeFinished(now: now)
    }

    /// One dispatcher pass (a batch from each sending campaign); public so tests can drive the
    /// engine step by step. Returns messages handed to providers.
    @discardableResult
    public func dispatchPass() async throws -> Int {
        try await dispatcher.pass()
    }

    /// One round of the pipelined dispatcher of `run()`, with `between` run after the round's
    /// batches are claimed and rendered and before they go to the providers (in `run()` a round
    /// waits there while the previous one is submitted); public so tests can pause or cancel a
    /// campaign at that point. Returns messages handed to providers.
    @discardableResult
    public func dispatchRound(between: () async throws -> Void) async throws -> Int {
        let claimed = try await dispatcher.prepareRound()
        try await between()
        let submitted = await dispatcher.submitAll(claimed)
        let unrecorded = await dispatcher.recordAll(submitted)
        guard unrecorded.isEmpty else { throw DispatchRoundError(unrecorded: unrecorded.reduce(0) { $0 + $1.outbound.count }) }
        return submitted.reduce(0) { $0 + $1.outbound.count }
    }

    /// Outcomes of `dispatchRound` that could not be recorded.
    public struct DispatchRoundError: Error, CustomStringConvertible {
        public var unrecorded: Int
        public var description: String { "\(unrecorded) dispatched messages could not be recorded" }
    }

    /// Recovers in-flight messages of dead workers (and, on a single node, of this node's
    /// previous run, whose id is gone from the heartbeat table after the TTL).
    public func recover(includingAll: Bool = false) async throws {
        let now = nowMillis()
        let ttl = Int64(configuration.workerTTL.components.seconds * 1000)
        var alive = try await storage.delivery.heartbeat(worker: workerId, now: now, ttl: ttl)
        if storage.db.dialect == .sqlite {
            // SQLite is one process: nothing else can hold a live claim.
            alive = [workerId]
        }
        let result = try await storage.delivery.recoverInFlight(alive: alive, providerDeduplicates: providers.deduplicates(campaign:), now: now)
        if result.requeued + result.unknown > 0 {
            logger.warning("recovered messages in flight at a crash", metadata: ["resubmitted": "\(result.requeued)", "inDoubt": "\(result.unknown)"])
        }
    }

    /// Writes a queued campaign's recipients; fails it when its audience is gone.
    func fanOut(_ work: Work, now: Int64) async throws {
        guard let audience = try await resolveAudience(work) else {
            try await storage.campaigns.fail(work.key, reason: "The campaign's audience no longer exists.")
            return
        }
        let counts = try await storage.delivery.fanOut(work, audience: audience, now: now)
        logger.info("campaign fanned out", metadata: ["campaign": "\(work.id)", "queued": "\(counts.queued)", "skipped": "\(counts.skipped)"])
    }

    func resolveAudience(_ work: Work) async throws -> ResolvedAudience? {
        let f = work.fields
        if let segmentId = f.segmentId {
            // Only a segment that is gone fails the campaign; a database error is the fan-out's
            // failure (retried when transient).
            let segment: SegmentRecord
            do { segment = try await storage.segments.get(work.scope, id: segmentId) } catch StoreError.notFound { return nil }
            let json = (try? JSONDecoder().decode(FilterJSON.self, from: Data(segment.filterJSON.utf8))) ?? .object([:])
            return (try? ContactFilter(validating: json)).map { .filter($0) }
        }
        if let raw = f.contactFilter { return (try? ContactFilter(validating: raw)).map { .filter($0) } }
        if let lists = f.listIds {
            var filter = ContactFilter()
            filter.listIds = lists.compactMap(UUID.init(uuidString:))
            return .filter(filter)
        }
        return .inline(campaignKey: work.key)
    }

    typealias Work = DeliveryStore.Work

    // MARK: receipts

    /// Attempts at a failing batch once the provider's stream has ended (shutdown) before the
    /// rest is left to the provider.
    static let receiptAttemptsAtShutdown = 5

    /// 20 ms doubling per failure up to 2 s: a database that is away is not hammered.
    static func receiptRetryDelay(failures: Int) -> Duration {
        .milliseconds(min(2_000, 20 << min(max(failures - 1, 0), 7)))
    }

    /// Reads a provider's receipts into a buffer and applies them in batches, one transaction
    /// per batch, every few milliseconds. A failing batch is retried with a growing delay; at
    /// shutdown it is retried a few times and then left to the provider (see `ReceiptSource`).
    func consumeReceipts(_ source: ReceiptSource) async {
        let buffer = ReceiptBuffer()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    // The group shuts services down in reverse order, so the engine stops before
                    // the provider that feeds it: stop reading at graceful shutdown rather than
                    // waiting for the provider to end its stream.
                    await cancelWhenGracefulShutdown {
                        for await receipt in source.receipts { buffer.append(receipt) }
                    }
                    buffer.finish()
                }
                group.addTask {
                    var failures = 0
                    while true {
                        let batch = buffer.take()
                        if !batch.isEmpty {
                            do {
                                try await self.storage.delivery.receipts(batch.map {
                                    DeliveryStore.Receipt(providerMessageId: $0.providerMessageId, outcome: $0.outcome.rawValue, errorCode: $0.errorCode,
                                                          at: Int64($0.at.timeIntervalSince1970 * 1000))
                                })
                                await source.acknowledge(batch)
                                failures = 0
                            } catch {
                                failures += 1
                                self.logger.error("receipts not applied", metadata: ["error": "\(error)", "count": "\(batch.count)", "failures": "\(failures)"])
                                buffer.putBack(batch)
                                // Stopping: what was never acknowledged stays with the provider, which
                                // sends it again after the restart. Retrying here without end would
                                // keep the process from ever stopping while the database is away.
                                if Task.isCancelled || (buffer.isFinished && failures >= Self.receiptAttemptsAtShutdown) {
                                    self.logger.warning("receipts left to the provider to send again after the restart",
                                                        metadata: ["count": "\(buffer.take().count)"])
                                    return
                                }
                                try? await Task.sleep(for: Self.receiptRetryDelay(failures: failures))
                                continue
                            }
                        } else if buffer.isFinished || Task.isCancelled {
                            return
                        }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        } onGracefulShutdown: {
            source.finish()
        }
    }
}


/// Receipts read but not yet applied.
final class ReceiptBuffer: Sendable {
    private let state = Mutex<(items: [DeliveryReceipt], finished: Bool)>(([], false))

    func append(_ r: DeliveryReceipt) { state.withLock { $0.items.append(r) } }
    func take() -> [DeliveryReceipt] { state.withLock { s in defer { s.items.removeAll(keepingCapacity: true) }; return s.items } }
    func putBack(_ batch: [DeliveryReceipt]) { state.withLock { $0.items.insert(contentsOf: batch, at: 0) } }
    func finish() { state.withLock { $0.finished = true } }
    var isFinished: Bool { state.withLock { $0.finished } }
}
