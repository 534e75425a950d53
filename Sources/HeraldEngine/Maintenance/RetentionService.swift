import Foundation
import HeraldStore
import Logging
import ServiceLifecycle

/// Deletes what Herald keeps only for a while, once a minute: idempotent responses past their
/// 24 hours (API.md §1), and delivery receipts that found no message within
/// `DeliveryStore.unmatchedReceiptRetentionMillis` (receipts of test sends, which are not
/// campaign messages, are the common case). Without it both tables grow with every request and
/// receipt, and the engine re-reads the kept receipts on every control tick.
public struct RetentionService: Service {
    let storage: Storage
    let logger: Logger
    let interval: Duration

    public init(storage: Storage, logger: Logger = Logger(label: "herald.retention"), interval: Duration = .seconds(60)) {
        self.storage = storage
        self.logger = logger
        self.interval = interval
    }

    /// One sweep; returns the rows deleted (idempotency keys, receipts). Public for tests.
    @discardableResult
    public func sweep(now: Int64 = Clock.nowMillis()) async throws -> (idempotencyKeys: Int, receipts: Int) {
        let keys = try await storage.idempotency.deleteExpired(now: now)
        let receipts = try await storage.delivery.deleteStaleUnmatchedReceipts(now: now)
        return (keys, receipts)
    }

    /// Sweeps until graceful shutdown, which ends the wait between sweeps at once (a sweep in
    /// progress is one short transaction per table).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let deleted = try await sweep()
                    if deleted.idempotencyKeys + deleted.receipts > 0 {
                        logger.debug("retention sweep", metadata: ["idempotencyKeys": "\(deleted.idempotencyKeys)", "receipts": "\(deleted.receipts)"])
                    }
                } catch {
                    if !Task.isCancelled { logger.warning("retention sweep failed", metadata: ["error": "\(error)"]) }
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
