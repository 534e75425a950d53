/// A token bucket rate limiter: tokens refill continuously at `ratePerSecond` up to `capacity`
/// (the burst); an action costs tokens.
///
/// Pure: the caller passes `now`, a monotonic time in seconds from any fixed origin (e.g.
/// `ContinuousClock` elapsed time, or `DispatchTime.now().uptimeNanoseconds / 1e9`); the
/// bucket never reads a clock, so it is deterministic to test. A `now` earlier than a
/// previous one is treated as no time passing.
///
/// A cost larger than `capacity` (a message of more segments than the burst) is allowed when
/// the bucket is full and leaves it in debt (negative tokens), so the long-run rate still holds
/// and such a cost is never starved.
public struct TokenBucket: Sendable, Hashable {
    public let ratePerSecond: Double
    public let capacity: Double
    /// Tokens at `updatedAt`; may be negative after an oversized take.
    public private(set) var tokens: Double
    public private(set) var updatedAt: Double

    /// - Parameters:
    ///   - ratePerSecond: refill rate, > 0.
    ///   - capacity: burst size, > 0.
    ///   - now: the current monotonic time in seconds.
    ///   - initialTokens: tokens at `now`; full (`capacity`) by default.
    public init(ratePerSecond: Double, capacity: Double, now: Double, initialTokens: Double? = nil) {
        precondition(ratePerSecond > 0 && ratePerSecond.isFinite, "TokenBucket rate must be positive")
        precondition(capacity > 0 && capacity.isFinite, "TokenBucket capacity must be positive")
        self.ratePerSecond = ratePerSecond
        self.capacity = capacity
        self.tokens = min(initialTokens ?? capacity, capacity)
        self.updatedAt = now
    }

    /// Tokens available at `now` (not mutating).
    public func available(now: Double) -> Double {
        let elapsed = max(0, now - updatedAt)
        return min(capacity, tokens + elapsed * ratePerSecond)
    }

    /// Whether the bucket is full at `now` (an idle bucket, equivalent to a fresh one).
    public func isFull(now: Double) -> Bool { available(now: now) >= capacity }

    private mutating func refill(now: Double) {
        tokens = available(now: now)
        updatedAt = max(updatedAt, now)
    }

    /// The tokens an action of `cost` needs before it may proceed.
    private func required(_ cost: Double) -> Double { min(cost, capacity) }

    /// Takes `cost` tokens if available at `now` and returns `true`; otherwise changes nothing
    /// and returns `false`.
    public mutating func tryTake(cost: Double = 1, now: Double) -> Bool {
        precondition(cost >= 0, "TokenBucket cost must not be negative")
        refill(now: now)
        guard tokens >= required(cost) else { return false }
        tokens -= cost
        return true
    }

    /// Seconds from `now` until `tryTake(cost:now:)` would succeed (0 when it would now). Use
    /// it for a 429 `Retry-After` (see `retryAfterSeconds`) or to make a dispatcher sleep.
    public func timeUntilAvailable(cost: Double = 1, now: Double) -> Double {
        let missing = required(cost) - available(now: now)
        return missing <= 0 ? 0 : missing / ratePerSecond
    }

    /// `timeUntilAvailable` as a `Duration`.
    public func durationUntilAvailable(cost: Double = 1, now: Double) -> Duration {
        let seconds = timeUntilAvailable(cost: cost, now: now)
        return .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
    }

    /// Whole seconds for an HTTP `Retry-After` header: the wait rounded up, at least 1.
    public func retryAfterSeconds(cost: Double = 1, now: Double) -> Int {
        max(1, Int(timeUntilAvailable(cost: cost, now: now).rounded(.up)))
    }
}
