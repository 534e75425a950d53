import Foundation

/// The time source of the dispatcher's per-sender token buckets: a monotonic clock in seconds
/// and a way to wait on it. Real sends use `continuous`; tests use a simulated clock whose
/// waits advance it at once, so rate limits are checked exactly, without timing anything.
public struct RatePacer: Sendable {
    /// Monotonic seconds from an arbitrary origin.
    public var now: @Sendable () -> Double
    /// Waits `seconds` on this clock.
    public var sleep: @Sendable (_ seconds: Double) async throws -> Void

    public init(now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (_ seconds: Double) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The machine's monotonic clock (`ContinuousClock`), waiting whole milliseconds (at least one).
    public static var continuous: RatePacer {
        let origin = ContinuousClock.now
        return RatePacer(now: {
            let d = ContinuousClock.now - origin
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }, sleep: { seconds in
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000) + 1))
        })
    }
}
