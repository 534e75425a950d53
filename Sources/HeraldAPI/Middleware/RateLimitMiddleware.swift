import HTTPTypes
import HeraldCore
import Hummingbird

/// A token bucket per API key (API.md §1: 100 requests/s, bursts of 200 by default); past it, 429
/// with `Retry-After` and the rate-limit headers.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let buckets: KeyedTokenBuckets<Int64>
    /// `X-RateLimit-Limit`: the rate per second, as a whole number when it is one (loaded
    /// configuration always is) and as a decimal otherwise, never rounded down to 0.
    let limit: String

    init(ratePerSecond: Double, burst: Double) {
        self.buckets = KeyedTokenBuckets(ratePerSecond: ratePerSecond, capacity: burst, now: Self.now())
        self.limit = Self.header(ratePerSecond: ratePerSecond)
    }

    static func header(ratePerSecond rate: Double) -> String {
        rate.rounded() == rate && rate < 1e15 ? String(Int(rate)) : String(rate)
    }

    static func now() -> Double {
        let d = ContinuousClock.now - Self.epoch
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private static let epoch = ContinuousClock.now

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = context.apiKey else { return try await next(request, context) }
        let decision = buckets.take(key.key, cost: 1, now: Self.now())
        var headers: HTTPFields = [:]
        headers[.rateLimitLimit] = limit
        headers[.rateLimitRemaining] = String(max(0, Int(decision.remaining)))
        guard decision.allowed else {
            headers[.retryAfter] = String(max(1, decision.retryAfterSeconds))
            throw APIError(.tooManyRequests, "rate_limit_exceeded", "Too many requests for this API key; retry after \(max(1, decision.retryAfterSeconds)) s.", headers: headers)
        }
        var response = try await next(request, context)
        response.headers[.rateLimitLimit] = headers[.rateLimitLimit]
        response.headers[.rateLimitRemaining] = headers[.rateLimitRemaining]
        return response
    }
}
