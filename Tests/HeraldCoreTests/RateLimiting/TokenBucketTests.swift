import HeraldCore
import Testing

private func take(_ bucket: inout TokenBucket, cost: Double = 1, now: Double) -> Bool {
    bucket.tryTake(cost: cost, now: now)
}

@Suite("Token bucket", .timeLimit(.minutes(10)))
struct TokenBucketTests {
    @Test("Burst then steady rate with a fake clock", arguments: [(10.0, 20.0), (100.0, 200.0), (0.5, 3.0)])
    func burstAndRate(rate: Double, burst: Double) {
        var bucket = TokenBucket(ratePerSecond: rate, capacity: burst, now: 100)
        var taken = 0
        while bucket.tryTake(now: 100) { taken += 1 }
        #expect(taken == Int(burst))
        #expect(!take(&bucket, now: 100))
        #expect(abs(bucket.timeUntilAvailable(now: 100) - 1 / rate) < 1e-9)
        // Over 10 simulated seconds, polling every millisecond, exactly rate*10 more succeed.
        var later = 0
        for step in 1...10_000 where bucket.tryTake(now: 100 + Double(step) / 1000) { later += 1 }
        #expect(abs(Double(later) - rate * 10) <= 1)
    }

    @Test("Refill caps at capacity")
    func refillCaps() {
        var bucket = TokenBucket(ratePerSecond: 5, capacity: 10, now: 0, initialTokens: 0)
        #expect(bucket.available(now: 1) == 5)
        #expect(bucket.available(now: 1000) == 10)
        #expect(take(&bucket, cost: 10, now: 1000))
        #expect(!take(&bucket, cost: 1, now: 1000))
    }

    @Test("Multi-token costs and wait times", arguments: [(3.0, 0.0), (7.0, 0.4), (10.0, 1.0)])
    func costs(cost: Double, wait: Double) {
        let bucket = TokenBucket(ratePerSecond: 5, capacity: 10, now: 0, initialTokens: 5)
        #expect(abs(bucket.timeUntilAvailable(cost: cost, now: 0) - wait) < 1e-9)
        var copy = bucket
        #expect(take(&copy, cost: cost, now: wait) == true)
        var early = bucket
        if wait > 0 { #expect(take(&early, cost: cost, now: wait - 0.01) == false) }
    }

    @Test("Oversized cost is allowed from a full bucket and leaves debt")
    func oversized() {
        var bucket = TokenBucket(ratePerSecond: 10, capacity: 5, now: 0)
        #expect(take(&bucket, cost: 8, now: 0))
        #expect(bucket.tokens == -3)
        #expect(abs(bucket.timeUntilAvailable(cost: 8, now: 0) - 0.8) < 1e-9)
        #expect(!take(&bucket, cost: 1, now: 0.3))
        #expect(take(&bucket, cost: 1, now: 0.4))
    }

    @Test("Clock going backwards adds no tokens")
    func backwards() {
        var bucket = TokenBucket(ratePerSecond: 1, capacity: 1, now: 10)
        #expect(take(&bucket, now: 10))
        #expect(!take(&bucket, now: 5))
        #expect(take(&bucket, now: 11))
    }

    @Test("Retry-After rounds up to whole seconds", arguments: [(0.5, 2), (2.0, 1), (0.3, 4)] as [(Double, Int)])
    func retryAfter(rate: Double, seconds: Int) {
        var bucket = TokenBucket(ratePerSecond: rate, capacity: 1, now: 0)
        #expect(take(&bucket, now: 0))
        #expect(bucket.retryAfterSeconds(now: 0) == seconds)
        #expect(bucket.durationUntilAvailable(now: 0) > .zero)
    }
}

@Suite("Keyed token buckets", .timeLimit(.minutes(10)))
struct KeyedTokenBucketsTests {
    @Test("Keys are limited independently and decisions carry header values")
    func independentKeys() {
        let limiter = KeyedTokenBuckets<String>(ratePerSecond: 100, capacity: 200)
        for _ in 0..<200 { #expect(limiter.tryTake("a", now: 0)) }
        let denied = limiter.take("a", now: 0)
        #expect(!denied.allowed)
        #expect(denied.remaining == 0)
        #expect(denied.retryAfterSeconds == 1)
        #expect(abs(denied.retryAfter - 0.01) < 1e-9)
        let other = limiter.take("b", now: 0)
        #expect(other.allowed)
        #expect(other.remaining == 199)
    }

    @Test("Idle full buckets are evicted", arguments: [10, 1000])
    func eviction(keys: Int) {
        let limiter = KeyedTokenBuckets<Int>(ratePerSecond: 10, capacity: 10)  // sweep every 1 s
        for key in 0..<keys { _ = limiter.take(key, now: 0) }
        #expect(limiter.count == keys)
        _ = limiter.take(-1, cost: 5, now: 0.5)
        #expect(limiter.count == keys + 1)  // no sweep before the interval
        _ = limiter.take(-2, now: 2)
        #expect(limiter.count == 1)  // everyone refilled and was evicted; -2 was just added
    }

    @Test("Concurrent takes never exceed the burst")
    func concurrent() async {
        let limiter = KeyedTokenBuckets<String>(ratePerSecond: 1, capacity: 500)
        let allowed = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var count = 0
                    for _ in 0..<200 where limiter.tryTake("k", now: 0) { count += 1 }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        #expect(allowed == 500)
    }
}
