import HeraldCore
import Testing

@Suite("A/B winner chosen by hand (API.md §5.3)", .timeLimit(.minutes(10)))
struct ABTestWinnerChoiceTests {
    @Test("allowed only for a started A/B test without a winner", arguments: CampaignStatus.allCases)
    func byStatus(status: CampaignStatus) {
        let allowed: Set<CampaignStatus> = [.pending, .queued, .sending, .paused]
        #expect((ABTestWinnerChoice.refusal(status: status, isABTest: true, currentWinner: nil) == nil) == allowed.contains(status))
        #expect(ABTestWinnerChoice.refusal(status: status, isABTest: false, currentWinner: nil) != nil)
        #expect(ABTestWinnerChoice.refusal(status: status, isABTest: true, currentWinner: "A") != nil)
    }
}
