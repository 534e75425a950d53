/// Choosing an A/B test's winner by hand (API.md §5.3 `POST /api/campaigns/{id}/ab-test/winner`):
/// the winner then goes to the rest of the audience at once, as if the test time were over.
public enum ABTestWinnerChoice {
    /// The variants a winner can be.
    public static let variants = ["A", "B"]

    /// Why a winner cannot be chosen now, or nil when it can: the campaign must be an A/B test
    /// on its way (admitted, sending or paused) whose winner is not chosen yet.
    public static func refusal(status: CampaignStatus, isABTest: Bool, currentWinner: String?) -> String? {
        guard isABTest else { return "This campaign is not an A/B test." }
        if let currentWinner { return "The winner is already chosen: variant \(currentWinner)." }
        switch status {
        case .pending, .queued, .sending, .paused: return nil
        case .draft, .scheduled: return "The A/B test has not started; a winner can be chosen once the campaign is launched and due."
        case .completed, .failed: return "The campaign is \(status.rawValue)."
        }
    }
}
