/// The status of one recipient's message (API.md §5.1).
public enum RecipientMessageStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting to be sent (possibly deferred to a send window).
    case queued
    /// Handed to a provider; outcome not yet recorded.
    case sending
    /// Accepted by the carrier.
    case sent
    case delivered
    /// The carrier's receipt says it did not arrive.
    case undelivered
    /// Rejected or out of retries.
    case failed
    /// Dropped before sending, with a reason.
    case skipped
    case cancelled
    /// In doubt after a crash with a provider that cannot deduplicate; never silently resent.
    case unknown

    /// Final for the campaign: no more sending work will happen for this recipient (every status
    /// except `queued` and `sending`). A campaign is `completed` when every recipient is final.
    /// A `sent` message may still get a delivery receipt (`delivered`/`undelivered`).
    public var isFinal: Bool { self != .queued && self != .sending }

    /// Whether a delivery receipt may still change this status (only `sent`).
    public var awaitsDeliveryReceipt: Bool { self == .sent }

    /// Whether the carrier accepted the message (counts in `sentCount`, API.md §5.1).
    public var countsAsSent: Bool { self == .sent || self == .delivered || self == .undelivered }
}
