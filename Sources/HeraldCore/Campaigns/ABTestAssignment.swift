/// Which message a recipient of an A/B test campaign gets (API.md §5.2 `abTestEnabled`).
public enum ABTestGroup: String, Sendable, Hashable, Codable, CaseIterable {
    /// Sample A: `messageVariantA`.
    case variantA = "A"
    /// Sample B: `messageVariantB`.
    case variantB = "B"
    /// The rest of the audience; gets `abTestWinner` once chosen.
    case remainder
}

/// Stable A/B assignment by hash: deterministic across processes, machines and databases (never
/// Swift's randomly seeded `Hasher`), using only 64-bit integer arithmetic that never overflows,
/// so the same bucket can be computed in SQL.
///
/// With M = 2147483647 (2³¹−1, prime) and K = 48271³ mod M = 1291394886:
/// ```
/// c = (campaignKey mod M + M) mod M          -- 0 ..< M
/// x = (contactKey  mod M + M) mod M
/// m = (c + 1) * K mod M                      -- a per-campaign multiplier, < 2^31
/// bucket = (x + 1) * m mod M mod 10000       -- (x+1)*m < 2^62: no overflow
/// ```
/// Sequential contact keys step through the multiplicative group by a large, campaign-specific
/// stride, so buckets spread evenly and neighbouring contacts (an import batch) scatter; the
/// samples of two campaigns are unrelated. SQL (SQLite and PostgreSQL; `%` truncates like Swift,
/// hence the `+ M) % M` for negative keys):
/// ```sql
/// (((contact_key % 2147483647 + 2147483647) % 2147483647 + 1)
///   * (((campaign_key % 2147483647 + 2147483647) % 2147483647 + 1) * 1291394886 % 2147483647)
/// ) % 2147483647 % 10000
/// ```
public enum ABTestAssignment {
    public static let modulus: Int64 = 2_147_483_647
    /// 48271³ mod (2³¹−1).
    public static let campaignMultiplier: Int64 = 1_291_394_886
    public static let bucketCount: Int64 = 10_000

    /// The bucket `0..<10000` of a contact in a campaign.
    @inlinable
    public static func bucket(campaignKey: Int64, contactKey: Int64) -> Int {
        let c = (campaignKey % modulus + modulus) % modulus
        let x = (contactKey % modulus + modulus) % modulus
        let m = (c + 1) * campaignMultiplier % modulus
        return Int((x + 1) * m % modulus % bucketCount)
    }

    /// The group for a bucket: A if `bucket < p·100`, B if `bucket < 2p·100`, else the remainder.
    /// `samplePercent` is each variant's share (1…50, API.md §5.2 `abTestSamplePercent`).
    @inlinable
    public static func group(bucket: Int, samplePercent: Int) -> ABTestGroup {
        let share = samplePercent * 100
        if bucket < share { return .variantA }
        if bucket < 2 * share { return .variantB }
        return .remainder
    }

    /// `group(bucket: bucket(campaignKey:contactKey:), samplePercent:)`.
    @inlinable
    public static func group(campaignKey: Int64, contactKey: Int64, samplePercent: Int) -> ABTestGroup {
        group(bucket: bucket(campaignKey: campaignKey, contactKey: contactKey), samplePercent: samplePercent)
    }

    /// The SQL form of `bucket` for columns named as given (SQLite and PostgreSQL). Both keys
    /// are cast to BIGINT: PostgreSQL types a bare literal key as INTEGER, and `key + 2147483647`
    /// would overflow it.
    public static func sqlBucketExpression(campaignKey: String, contactKey: String) -> String {
        let contact = "CAST(\(contactKey) AS BIGINT)"
        let campaign = "CAST(\(campaignKey) AS BIGINT)"
        return "(((\(contact) % 2147483647 + 2147483647) % 2147483647 + 1) * (((\(campaign) % 2147483647 + 2147483647) % 2147483647 + 1) * 1291394886 % 2147483647)) % 2147483647 % 10000"
    }
}
