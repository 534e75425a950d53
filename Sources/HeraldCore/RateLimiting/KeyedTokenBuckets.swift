import Synchronization

/// One token bucket per key (e.g. per API key: 100 requests/s, bursts of 200 — API.md §1),
/// safe to share between concurrent tasks.
///
/// Buckets are created full on first use. Idle buckets that have refilled completely are
/// evicted (a full bucket is the same as no bucket), in a sweep run at most once per
/// `sweepInterval` seconds, so memory tracks the keys active recently, not every key seen.
/// Like `TokenBucket`, it never reads a clock: callers pass monotonic `now` in seconds.
public final class KeyedTokenBuckets<Key: Hashable & Sendable>: Sendable {
    /// The result of one `take`, with what a 429 response needs.
    public struct Decision: Sendable, Hashable {
        public var allowed: Bool
        /// Whole tokens left after this decision (for `X-RateLimit-Remaining`).
        public var remaining: Int
        /// Seconds until the same cost would be allowed; 0 when allowed.
        public var retryAfter: Double
        /// `retryAfter` rounded up to whole seconds, at least 1 (for `Retry-After`).
        public var retryAfterSeconds: Int { max(1, Int(retryAfter.rounded(.up))) }
    }

    private struct State {
        var buckets: [Key: TokenBucket] = [:]
        var lastSweep: Double
    }

    public let ratePerSecond: Double
    public let capacity: Double
    /// Minimum seconds between eviction sweeps.
    public let sweepInterval: Double
    private let state: Mutex<State>

    /// - Parameter sweepInterval: defaults to the time an empty bucket takes to refill
    ///   (`capacity / ratePerSecond`), at least one second.
    public init(ratePerSecond: Double, capacity: Double, sweepInterval: Double? = nil, now: Double = 0) {
        precondition(ratePerSecond > 0 && capacity > 0, "rate and capacity must be positive")
        self.ratePerSecond = ratePerSecond
        self.capacity = capacity
        self.sweepInterval = sweepInterval ?? max(1, capacity / ratePerSecond)
        self.state = Mutex(State(lastSweep: now))
    }

    /// Takes `cost` tokens from `key`'s bucket if it has them.
    public func take(_ key: Key, cost: Double = 1, now: Double) -> Decision {
        state.withLock { state in
            if now - state.lastSweep >= sweepInterval {
                state.buckets = state.buckets.filter { !$0.value.isFull(now: now) }
                state.lastSweep = now
            }
            var bucket = state.buckets[key]
                ?? TokenBucket(ratePerSecond: ratePerSecond, capacity: capacity, now: now)
            let allowed = bucket.tryTake(cost: cost, now: now)
            state.buckets[key] = bucket
            let available = bucket.available(now: now)
            return Decision(
                allowed: allowed,
                remaining: max(0, Int(available.rounded(.down))),
                retryAfter: allowed ? 0 : bucket.timeUntilAvailable(cost: cost, now: now)
            )
        }
    }

    /// Convenience for `take(_:cost:now:).allowed`.
    public func tryTake(_ key: Key, cost: Double = 1, now: Double) -> Bool {
        take(key, cost: cost, now: now).allowed
    }

    /// Number of buckets held (keys seen since their bucket was last evicted).
    public var count: Int { state.withLock { $0.buckets.count } }
}
