import Foundation
import HeraldCore
import HeraldStore
import Logging
import Synchronization

/// Keeps one campaign's errors from stopping everyone's delivery: the control loop and the
/// dispatcher report a campaign's failed fan-out or batch preparation here instead of letting
/// the error end their pass, so every other campaign still goes ahead. A campaign that fails
/// `limit` times in a row with an error that running it again cannot fix (the database
/// rejects the statement itself) ends `failed` with a reason; transient errors (a lost
/// connection, a busy database) are retried for as long as they last. The count lives in
/// memory: a restart gives a campaign `limit` new tries, which only costs a few passes.
final class CampaignFailures: Sendable {
    /// What the engine was doing for the campaign.
    enum Stage: String, Sendable {
        case fanOut = "fan-out"
        case dispatch = "dispatch"

        /// The campaign's `failureReason` once it has failed for good.
        func reason(attempts: Int) -> String {
            switch self {
            case .fanOut: "The campaign's recipients could not be written (\(attempts) attempts failed); the server log has the error."
            case .dispatch: "The campaign's messages could not be prepared for sending (\(attempts) attempts failed); the server log has the error."
            }
        }
    }

    let storage: Storage
    let logger: Logger
    let limit: Int
    private let counts = Mutex<[Int64: Int]>([:])

    init(storage: Storage, logger: Logger, limit: Int) {
        self.storage = storage
        self.logger = logger
        self.limit = max(1, limit)
    }

    /// The campaign's step went through: its run of failures is over.
    func succeeded(_ campaignKey: Int64) {
        _ = counts.withLock { $0.removeValue(forKey: campaignKey) }
    }

    /// Logs the campaign's failure; fails the campaign once `limit` non-transient failures
    /// came in a row. Never throws: the caller goes on with the other campaigns.
    func failed(_ work: DeliveryStore.Work, stage: Stage, error: any Error) async {
        if error is CancellationError { return }
        let transient = Self.isTransient(error)
        let count = transient ? 0 : counts.withLock { table -> Int in
            let n = (table[work.key] ?? 0) + 1
            table[work.key] = n
            return n
        }
        let metadata: Logger.Metadata = ["campaign": "\(work.id)", "organization": "\(work.scope.id)", "stage": "\(stage.rawValue)",
                                         "error": "\(error)", "transient": "\(transient)", "failures": "\(count)"]
        guard count >= limit else {
            logger.error("campaign step failed; the other campaigns go on", metadata: metadata)
            return
        }
        logger.error("campaign failed: the same step failed every time", metadata: metadata)
        do {
            try await storage.campaigns.fail(work.key, reason: stage.reason(attempts: count))
            succeeded(work.key)
        } catch {
            logger.error("campaign could not be marked failed; it will be tried again", metadata: ["campaign": "\(work.id)", "error": "\(error)"])
        }
    }

    /// Whether running the step again may succeed. Database errors say so themselves; an error
    /// the store raises about the data (`StoreError`) will not go away; anything else (a
    /// driver's or the network's) is taken as transient.
    static func isTransient(_ error: any Error) -> Bool {
        if let e = error as? SQLError { return e.isTransient }
        if error is StoreError { return false }
        return true
    }
}
