import HeraldCore
import Testing

@Suite("Campaign counters rebuilt from recipient rows", .timeLimit(.minutes(10)))
struct CampaignCountersTests {
    @Test("each status counts where the campaign's running counters count it", arguments: [
        (RecipientMessageStatus.queued, "queued"), (.sending, "queued"), (.sent, "sent"), (.delivered, "sent+delivered"),
        (.undelivered, "sent+undelivered"), (.failed, "failed"), (.skipped, "skipped"), (.cancelled, "skipped+cancelled"), (.unknown, "unknown"),
    ])
    func statuses(status: RecipientMessageStatus, buckets: String) {
        let n = CampaignCounters(statusRows: [(status, 3, 1, 2)])
        let all: [String: Int64] = ["queued": n.queued, "sent": n.sent, "delivered": n.delivered, "undelivered": n.undelivered,
                                    "failed": n.failed, "skipped": n.skipped, "cancelled": n.cancelled, "unknown": n.unknown]
        let expected = Set(buckets.split(separator: "+").map(String.init))
        #expect(all.filter { $0.value == 3 }.keys.sorted() == expected.sorted())
        #expect(all.filter { $0.value != 0 && $0.value != 3 }.isEmpty)
        #expect(n.total == 3 && n.replies == 1)
        // Credits are what a carrier accepted.
        #expect(n.creditsUsed == (status.countsAsSent ? 2 : 0))
    }

    @Test("rows add up, and the delivery rate is delivered over sent")
    func sums() {
        let n = CampaignCounters(statusRows: [(.delivered, 3, 0, 3), (.undelivered, 1, 0, 1), (.queued, 4, 0, 0), (.cancelled, 2, 0, 0)])
        #expect(n.total == 10 && n.sent == 4 && n.delivered == 3 && n.queued == 4 && n.skipped == 2 && n.creditsUsed == 4)
        #expect(n.deliveryRate == 75)
    }
}
