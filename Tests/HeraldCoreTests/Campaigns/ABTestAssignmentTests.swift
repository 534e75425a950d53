import Testing
@testable import HeraldCore

@Suite("A/B assignment by stable hash", .timeLimit(.minutes(10)))
struct ABTestAssignmentTests {
    /// Fixed values computed independently (Python, and SQLite 3 running the SQL form for the last
    /// two rows); they pin
    /// the function so that a change would re-shuffle running campaigns.
    @Test(arguments: [
        (Int64(1), Int64(1), 2250),
        (1, 2, 8375),
        (7, 123_456, 8153),
        (42, 0, 8923),
        (9_000_000_000, 9_000_000_001, 9377),
        (-5, -17, 4118),
    ])
    func pinnedBuckets(_ campaign: Int64, _ contact: Int64, _ bucket: Int) {
        #expect(ABTestAssignment.bucket(campaignKey: campaign, contactKey: contact) == bucket)
    }

    @Test func bucketsAreInRangeForExtremeKeys() {
        for key in [Int64.min, Int64.min + 1, -1, 0, 1, 2_147_483_646, 2_147_483_647, Int64.max] {
            for campaign in [Int64.min, 0, Int64.max] {
                #expect((0..<10_000).contains(ABTestAssignment.bucket(campaignKey: campaign, contactKey: key)))
            }
        }
    }

    @Test(arguments: [(0, ABTestGroup.variantA), (499, .variantA), (500, .variantB), (999, .variantB), (1000, .remainder), (9999, .remainder)])
    func groupsAtFivePercent(_ bucket: Int, _ group: ABTestGroup) {
        #expect(ABTestAssignment.group(bucket: bucket, samplePercent: 5) == group)
    }

    @Test func fiftyPercentLeavesNoRemainder() {
        #expect(ABTestAssignment.group(bucket: 4999, samplePercent: 50) == .variantA)
        #expect(ABTestAssignment.group(bucket: 5000, samplePercent: 50) == .variantB)
        #expect(ABTestAssignment.group(bucket: 9999, samplePercent: 50) == .variantB)
    }

    /// Each variant gets p% (±0.3 points) of 100k sequential contact keys, for several campaigns.
    @Test(arguments: [(Int64(1), 5), (2, 5), (3, 10), (1_000, 1), (77, 25), (123_456_789, 50)])
    func spreadOnSequentialKeys(_ campaign: Int64, _ percent: Int) {
        var counts: [ABTestGroup: Int] = [:]
        let total = 100_000
        for contact in 1...Int64(total) {
            counts[ABTestAssignment.group(campaignKey: campaign, contactKey: contact, samplePercent: percent), default: 0] += 1
        }
        let tolerance = 0.3
        for group in [ABTestGroup.variantA, .variantB] {
            let share = Double(counts[group, default: 0]) * 100 / Double(total)
            #expect(abs(share - Double(percent)) < tolerance, "\(group): \(share)%")
        }
        // Buckets of 100k keys cover all 10,000 values roughly evenly (no clumping).
        var histogram = [Int](repeating: 0, count: 100)
        for contact in 1...Int64(total) {
            histogram[ABTestAssignment.bucket(campaignKey: campaign, contactKey: contact) / 100] += 1
        }
        #expect(histogram.allSatisfy { (850...1150).contains($0) }, "\(histogram)")
    }

    @Test func neighbouringContactsScatter() {
        // An import batch of 1,000 consecutive contacts is not all in one variant.
        var inA = 0
        for contact in Int64(50_000)..<51_000 where ABTestAssignment.group(campaignKey: 1, contactKey: contact, samplePercent: 5) == .variantA {
            inA += 1
        }
        #expect((25...75).contains(inA))
    }

    @Test func samplesOfDifferentCampaignsAreUnrelated() {
        // P(A in both) ≈ 0.05² for independent samples: 25 per 10k; consecutive campaign keys.
        var both = 0
        for contact in Int64(1)...10_000 {
            let a1 = ABTestAssignment.group(campaignKey: 10, contactKey: contact, samplePercent: 5) == .variantA
            let a2 = ABTestAssignment.group(campaignKey: 11, contactKey: contact, samplePercent: 5) == .variantA
            if a1 && a2 { both += 1 }
        }
        #expect(both < 80, "\(both) contacts in sample A of both campaigns")
    }

    @Test func sqlExpressionNamesColumns() {
        let sql = ABTestAssignment.sqlBucketExpression(campaignKey: "c.id", contactKey: "ct.id")
        // Both keys as BIGINT (PostgreSQL would type a literal key as INTEGER and overflow);
        // the storage tests check its values against `bucket` on both engines.
        #expect(sql.contains("CAST(ct.id AS BIGINT)") && sql.contains("CAST(c.id AS BIGINT)"))
    }
}
