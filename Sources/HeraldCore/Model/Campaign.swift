import Foundation

/// The running counts of a campaign (API.md §5.1), kept incrementally by the engine.
public struct CampaignCounters: Sendable, Hashable {
    public var total: Int64 = 0
    public var queued: Int64 = 0
    public var sent: Int64 = 0
    public var delivered: Int64 = 0
    public var undelivered: Int64 = 0
    public var failed: Int64 = 0
    public var skipped: Int64 = 0
    public var cancelled: Int64 = 0
    public var unknown: Int64 = 0
    public var replies: Int64 = 0
    public var optOuts: Int64 = 0
    public var clicks: Int64 = 0
    public var uniqueClicks: Int64 = 0
    public var creditsUsed: Int64 = 0

    public init() {}

    /// delivered ÷ sent × 100 with two decimals; 0 when nothing is sent (API.md §5.1).
    public var deliveryRate: Double { Self.rate(delivered, of: sent) }

    /// Counters rebuilt from a campaign's recipient rows grouped by status (`rows` holds, per
    /// status, the number of rows, of them the replied ones, and their credits), with the same
    /// meaning as the campaign's running counters (API.md §5.1): `sent` counts what a carrier
    /// accepted (delivered and undelivered included), `queued` what is still queued or being
    /// sent, `skipped` what was dropped or cancelled.
    public init(statusRows rows: [(status: RecipientMessageStatus, count: Int64, replied: Int64, credits: Int64)]) {
        for r in rows {
            total += r.count
            replies += r.replied
            if r.status.countsAsSent {
                sent += r.count
                creditsUsed += r.credits
            }
            switch r.status {
            case .queued, .sending: queued += r.count
            case .delivered: delivered += r.count
            case .undelivered: undelivered += r.count
            case .failed: failed += r.count
            case .skipped: skipped += r.count
            case .cancelled:
                cancelled += r.count
                skipped += r.count
            case .unknown: unknown += r.count
            case .sent: break
            }
        }
    }

    public static func rate(_ part: Int64, of whole: Int64) -> Double {
        guard whole > 0 else { return 0 }
        return (Double(part) / Double(whole) * 10000).rounded() / 100
    }
}

/// A campaign as stored: its request fields plus what the system keeps about it.
public struct CampaignRecord: Sendable, Hashable {
    public var key: Int64
    public var id: String
    public var status: CampaignStatus
    public var pausedFrom: CampaignStatus?
    public var fields: CampaignFields
    public var counters: CampaignCounters
    public var abTestWinner: String?
    public var failureReason: String?
    public var nextSendAt: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64
    public var startedAt: Int64?
    public var completedAt: Int64?

    public init(key: Int64, id: String, status: CampaignStatus, pausedFrom: CampaignStatus?, fields: CampaignFields, counters: CampaignCounters,
                abTestWinner: String?, failureReason: String?, nextSendAt: Int64?, createdAt: Int64, updatedAt: Int64, startedAt: Int64?, completedAt: Int64?) {
        self.key = key
        self.id = id
        self.status = status
        self.pausedFrom = pausedFrom
        self.fields = fields
        self.counters = counters
        self.abTestWinner = abTestWinner
        self.failureReason = failureReason
        self.nextSendAt = nextSendAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.completedAt = completedAt
    }
}
