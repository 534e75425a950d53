import Foundation
import HeraldCore
import Logging
import ServiceLifecycle
import Synchronization

/// The built-in carrier simulator (API.md §8): accepts, rejects, throttles and receipts messages
/// by rule, like a carrier, and records what every phone received in its own SQLite file.
///
/// By the last four digits of the destination: `0000` is rejected at submit (invalid number,
/// permanent); `0001` is accepted then receipted `undelivered`; `0002` is accepted and never
/// receipted; `0003` is throttled on its first submit (retryable) then accepted; anything else is
/// accepted then receipted `delivered`. Receipts follow `latency` after acceptance. Submits past
/// `maxPerSecond` are throttled (retryable), like a carrier's submit window.
///
/// Idempotent on Herald's message id: resubmitting an accepted id is acknowledged with the same
/// provider id and neither recorded nor receipted again. A submit returns only once the record is
/// committed.
///
/// Also a `Service`: `run()` emits the receipts on `receipts` as they fall due, until graceful
/// shutdown (then it finishes the stream). Like a carrier's delivery reports (SMPP 3.4 §4.6.1
/// `deliver_sm` waits for its `deliver_sm_resp`), a receipt counts as handed over only when the
/// consumer acknowledges it (`acknowledge(_:)`, after it committed the receipt): until then it
/// stays claimed in the record, and it is emitted again, by another process sharing the record
/// or after a restart, once its lease runs out. Receipt processing counts a repeat once.
public final class SimulatorProvider: MessageProvider, Service {
    /// The simulator's settings (the `simulator` provider's entry in the config file).
    public struct Configuration: Sendable, Hashable {
        /// The provider name senders refer to.
        public var name: String
        /// The simulator's own SQLite file (e.g. `simulator.db` beside Herald's database).
        public var databasePath: String
        /// From acceptance to receipt (`latencyMs`).
        public var latency: Duration
        /// Added to every submit (and batch) before it is answered (`submitLatencyMs`).
        public var submitLatency: Duration
        /// Submits accepted per second, with a one-second burst; `nil` for no cap (`maxPerSecond`).
        public var maxPerSecond: Double?
        /// The wait a rule-`0003` throttle asks for.
        public var throttleRetryAfter: Duration
        /// How long an emitted receipt that was not acknowledged stays with this process before
        /// another process sharing the record (or this one after a restart) may emit it again
        /// (`receiptLeaseMs`).
        public var receiptLease: Duration

        public init(name: String = "simulator", databasePath: String, latency: Duration = .milliseconds(50),
                    submitLatency: Duration = .zero, maxPerSecond: Double? = nil,
                    throttleRetryAfter: Duration = .milliseconds(100), receiptLease: Duration = .seconds(30)) {
            self.name = name
            self.databasePath = databasePath
            self.latency = latency
            self.submitLatency = submitLatency
            self.maxPerSecond = maxPerSecond
            self.throttleRetryAfter = throttleRetryAfter
            self.receiptLease = receiptLease
        }

        /// Reads a provider entry of the config file (`latencyMs`, `submitLatencyMs`,
        /// `maxPerSecond`, `throttleRetryAfterMs`, `receiptLeaseMs`; all optional). Throws on a value that is not a
        /// non-negative number (or a positive one for `maxPerSecond`).
        public init(name: String, databasePath: String, settings: [String: String]) throws(ProviderError) {
            func number(_ key: String) throws(ProviderError) -> Double? {
                guard let text = settings[key] else { return nil }
                guard let value = Double(text), value.isFinite, value >= 0 else {
                    throw ProviderError(code: "invalid_configuration", message: "provider \(name): \(key) must be a non-negative number",
                                        retryable: false)
                }
                return value
            }
            self.init(name: name, databasePath: databasePath)
            if let ms = try number("latencyMs") { latency = .milliseconds(ms) }
            if let ms = try number("submitLatencyMs") { submitLatency = .milliseconds(ms) }
            if let ms = try number("throttleRetryAfterMs") { throttleRetryAfter = .milliseconds(ms) }
            if let ms = try number("receiptLeaseMs") { receiptLease = .milliseconds(ms) }
            if let cap = try number("maxPerSecond") {
                guard cap > 0 else {
                    throw ProviderError(code: "invalid_configuration", message: "provider \(name): maxPerSecond must be positive",
                                        retryable: false)
                }
                maxPerSecond = cap
            }
        }
    }

    /// What the simulated carrier does with a destination, by its last four digits.
    public enum Rule: Sendable, Hashable, CaseIterable {
        /// `0000`: rejected at submit as an invalid number (permanent).
        case reject
        /// `0001`: accepted, then receipted `undelivered`.
        case undelivered
        /// `0002`: accepted, never receipted.
        case neverReceipted
        /// `0003`: the first submit of a message id is throttled (retryable), later ones accepted.
        case throttleOnce
        /// Anything else: accepted, then receipted `delivered`.
        case deliver

        /// The rule for a destination: its last four digits (non-digits ignored).
        public init(destination: String) {
            var last: [UInt8] = []
            for byte in destination.utf8.reversed() where byte >= 0x30 && byte <= 0x39 {
                last.append(byte)
                if last.count == 4 { break }
            }
            guard last.count == 4, last[1] == 0x30, last[2] == 0x30, last[3] == 0x30 else { self = .deliver; return }
            switch last[0] {
            case 0x30: self = .reject
            case 0x31: self = .undelivered
            case 0x32: self = .neverReceipted
            case 0x33: self = .throttleOnce
            default: self = .deliver
            }
        }

        /// The receipt the rule ends in, `nil` for none.
        var outcome: DeliveryReceipt.Outcome? {
            switch self {
            case .undelivered: .undelivered
            case .neverReceipted, .reject: nil
            case .throttleOnce, .deliver: .delivered
            }
        }
    }

    /// The error code of an `undelivered` receipt.
    public static let undeliveredErrorCode = "absent_subscriber"

    public let name: String
    public var deduplicatesByMessageId: Bool { true }
    public let configuration: Configuration
    /// The simulator's record: what every phone received.
    public let record: SimulatorRecord
    /// Delivery receipts, emitted by `run()` as they fall due; finished when `run()` ends. One
    /// consumer (the engine's receipt processor).
    public let receipts: AsyncStream<DeliveryReceipt>
    private let continuation: AsyncStream<DeliveryReceipt>.Continuation
    private let limiter: Mutex<TokenBucket?>
    private let origin: ContinuousClock.Instant
    private let logger: Logger

    /// Opens the simulator's record (creating it if needed) and queues the receipts it still
    /// owes from a previous run.
    public init(configuration: Configuration, logger: Logger = Logger(label: "herald.simulator")) throws {
        self.configuration = configuration
        self.name = configuration.name
        self.logger = logger
        self.record = try SimulatorRecord(path: configuration.databasePath)
        (receipts, continuation) = AsyncStream.makeStream(of: DeliveryReceipt.self, bufferingPolicy: .unbounded)
        let origin = ContinuousClock.now
        self.origin = origin
        self.limiter = Mutex(configuration.maxPerSecond.map { TokenBucket(ratePerSecond: $0, capacity: $0, now: 0) })
    }

    // MARK: submitting

    public func submit(_ message: OutboundMessage) async throws(ProviderError) -> SubmitAcceptance {
        let result = await submitBatch([message])
        return try result[0].get()
    }

    /// Submits a batch: rules and the per-second cap apply to each message in order, and every
    /// accepted message is recorded in one transaction, committed before this returns.
    public func submitBatch(_ messages: [OutboundMessage]) async -> [Result<SubmitAcceptance, ProviderError>] {
        if messages.isEmpty { return [] }
        if configuration.submitLatency > .zero { try? await Task.sleep(for: configuration.submitLatency) }
        var results = [Result<SubmitAcceptance, ProviderError>?](repeating: nil, count: messages.count)
        var entries: [SimulatorRecord.Entry] = []
        var indices: [Int] = []
        entries.reserveCapacity(messages.count)
        indices.reserveCapacity(messages.count)
        let now = seconds(since: origin)
        limiter.withLock { bucket in
            for (index, message) in messages.enumerated() {
                if bucket != nil, !bucket!.tryTake(now: now) {
                    let wait = bucket!.durationUntilAvailable(now: now)
                    results[index] = .failure(ProviderError(code: "throttled", message: "Over the simulator's \(configuration.maxPerSecond ?? 0) messages per second.",
                                                            retryable: true, retryAfter: wait))
                    continue
                }
                let rule = Rule(destination: message.to)
                if rule == .reject {
                    results[index] = .failure(ProviderError(code: "invalid_number", message: "The simulated carrier rejects \(message.to) as an invalid number.",
                                                            retryable: false))
                    continue
                }
                entries.append(SimulatorRecord.Entry(message: message, outcome: rule.outcome, throttleOnce: rule == .throttleOnce))
                indices.append(index)
            }
        }
        if !entries.isEmpty {
            let receivedAt = Self.epochMilliseconds()
            do {
                let recorded = try await record.record(entries, receivedAt: receivedAt,
                                                       latencyMilliseconds: Self.milliseconds(configuration.latency))
                for (index, outcome) in zip(indices, recorded) {
                    switch outcome {
                    case .accepted(let providerMessageId):
                        results[index] = .success(SubmitAcceptance(providerMessageId: providerMessageId))
                    case .throttled:
                        results[index] = .failure(ProviderError(code: "throttled", message: "The simulated carrier is throttling this destination.",
                                                                retryable: true, retryAfter: configuration.throttleRetryAfter))
                    }
                }
            } catch {
                logger.error("simulator record failed", metadata: ["error": "\(error)", "messages": "\(entries.count)"])
                let failure = ProviderError(code: "simulator_unavailable", message: "The simulator could not record the messages.",
                                            retryable: true, retryAfter: .milliseconds(100))
                for index in indices { results[index] = .failure(failure) }
            }
        }
        return results.map { $0! }
    }

    // MARK: receipts

    /// Emits receipts as they fall due until graceful shutdown (or cancellation), then finishes
    /// `receipts`. Receipts not yet due, or emitted and not yet confirmed, stay in the record
    /// for the next run. Several processes sharing the record each run this: a receipt is
    /// claimed by one of them.
    public func run() async throws {
        defer { continuation.finish() }
        do {
            try await cancelWhenGracefulShutdown { [self] in try await emitReceipts() }
        } catch is CancellationError {
            // Shutting down.
        }
    }

    /// Receipts emitted and not yet acknowledged, by provider message id (their record sequence).
    private let unacknowledged = Mutex<[String: Int64]>([:])
    /// At most this many receipts are out unacknowledged: a slow consumer holds the rest back in
    /// the record instead of in memory.
    static let maxUnacknowledged = 20_000

    /// The consumer has committed these receipts: they are marked in the record (status
    /// `delivered`/`undelivered`) and never emitted again. Unknown or repeated ids are ignored.
    public func acknowledge(_ receipts: [DeliveryReceipt]) async {
        let sequences = unacknowledged.withLock { pending in receipts.compactMap { pending.removeValue(forKey: $0.providerMessageId) } }
        guard !sequences.isEmpty else { return }
        do { try await record.confirmReceipts(sequences) } catch {
            // They stay claimed and are emitted again after their lease; the consumer counts a repeat once.
            logger.error("simulator could not confirm receipts", metadata: ["error": "\(error)", "count": "\(sequences.count)"])
        }
    }

    private func emitReceipts() async throws {
        // Other processes sharing the record add receipts too: look at least this often.
        let poll = min(max(Self.milliseconds(configuration.latency), 10), 250)
        let lease = Self.milliseconds(configuration.receiptLease)
        while !Task.isCancelled {
            var now = Self.epochMilliseconds()
            let room = Self.maxUnacknowledged - unacknowledged.withLock { $0.count }
            var due: [SimulatorRecord.PendingReceipt] = []
            var nextDueAt: Int64?
            if room > 0 {
                do {
                    (due, nextDueAt) = try await record.claimDueReceipts(now: now, limit: min(10_000, room), leaseMilliseconds: lease)
                } catch {
                    logger.error("simulator could not claim receipts", metadata: ["error": "\(error)"])
                }
            }
            if !due.isEmpty {
                unacknowledged.withLock { pending in for receipt in due { pending[receipt.providerMessageId] = receipt.sequence } }
            }
            for receipt in due {
                continuation.yield(DeliveryReceipt(
                    providerName: name, providerMessageId: receipt.providerMessageId, outcome: receipt.outcome,
                    errorCode: receipt.outcome == .delivered ? nil : Self.undeliveredErrorCode,
                    at: Date(timeIntervalSince1970: Double(receipt.dueAtMilliseconds) / 1000)))
            }
            if due.count == 10_000 { await Task.yield(); continue }
            now = Self.epochMilliseconds()
            var wakeAt = now + poll
            if let nextDueAt { wakeAt = min(wakeAt, nextDueAt) }
            if wakeAt > now {
                do { try await Task.sleep(for: .milliseconds(wakeAt - now)) } catch { break }
            } else {
                await Task.yield()
            }
        }
        // Shutting down. Receipts not acknowledged may not have been applied by the consumer:
        // back to the queue for the next run (or another process) now, rather than after the lease.
        let claimed = unacknowledged.withLock { pending in
            defer { pending.removeAll() }
            return Array(pending.values)
        }
        do { try await record.releaseReceipts(claimed) } catch {
            logger.warning("simulator could not release receipts", metadata: ["error": "\(error)"])
        }
    }

    // MARK: queries

    /// What the organization's phones received, oldest first (all, or only `to`'s); `after` is
    /// the `sequence` of the previous page's last message.
    public func messages(organizationId: String, to: String? = nil, limit: Int = 50, after: Int64? = nil) async throws -> [SimulatorMessage] {
        try await record.messages(organizationId: organizationId, to: to, limit: limit, after: after)
    }

    /// How many messages the organization's phones received.
    public func count(organizationId: String) async throws -> Int {
        try await record.count(organizationId: organizationId)
    }

    /// How many messages each phone of the organization received.
    public func countsByPhone(organizationId: String) async throws -> [String: Int] {
        try await record.countsByPhone(organizationId: organizationId)
    }

    // MARK: time

    private func seconds(since origin: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func epochMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
