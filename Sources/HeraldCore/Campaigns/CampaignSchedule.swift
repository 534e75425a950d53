import Foundation

/// The `scheduledFor` rule (API.md §5.2).
public enum CampaignSchedule {
    /// A `scheduledFor` at most this far after `now` means "send now".
    public static let sendNowTolerance: TimeInterval = 30

    /// Omitted, in the past or within 30 s of `now` → `pending` (send now); later → `scheduled`.
    public static func launchStatus(scheduledFor: Date?, now: Date) -> CampaignStatus {
        guard let scheduledFor, scheduledFor.timeIntervalSince(now) > sendNowTolerance else { return .pending }
        return .scheduled
    }
}
