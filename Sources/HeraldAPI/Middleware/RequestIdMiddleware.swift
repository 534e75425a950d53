import HTTPTypes
import Foundation
import HeraldCore
import Hummingbird
import Logging
import Metrics

/// The outermost middleware: gives every request an id (the client's `X-Request-Id` when it sent
/// a sane one), puts it on every response, and turns every error into the API error body
/// (API.md §1). Internal errors are logged with the id and never shown.
struct RequestIdMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let start = ContinuousClock.now
        if let given = request.headers[.requestId], given.count <= 128, !given.isEmpty,
           given.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue.map { $0 >= 33 && $0 < 127 } == true }) {
            context.requestId = given
        } else {
            context.requestId = UUID().uuidString.lowercased()
        }
        context.logger[metadataKey: "request_id"] = .string(context.requestId)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = APIError.from(error)
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            }
            response = Self.errorResponse(apiError, requestId: context.requestId)
        }
        response.headers[.requestId] = context.requestId
        let route = context.endpointPath ?? "unmatched"
        Counter(label: "herald_http_requests_total", dimensions: [("method", request.method.rawValue), ("route", route), ("status", String(response.status.code))]).increment()
        Timer(label: "herald_http_request_duration_seconds", dimensions: [("route", route)], preferredDisplayUnit: .seconds)
            .recordInterval(since: start)
        // An access line at debug level (HERALD_LOG_LEVEL=debug): the route pattern, never the
        // path or query, which can hold phone numbers and search terms.
        let elapsed = (ContinuousClock.now - start).components
        context.logger.debug("request", metadata: [
            "method": "\(request.method.rawValue)", "route": "\(route)", "status": "\(response.status.code)",
            "ms": "\(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)",
        ])
        return response
    }

    static func errorResponse(_ e: APIError, requestId: String) -> Response {
        let body: JSON = .object([
            "error": .string(e.code),
            "message": .string(e.message),
            "details": .array(e.details.map { .object(["field": .string($0.field), "message": .string($0.message)]) }),
            "requestId": .string(requestId),
        ])
        return JSONResponse.make(body, status: e.status, headers: e.headers)
    }
}

extension HTTPField.Name {
    static let requestId = HTTPField.Name("X-Request-Id")!
    static let organizationId = HTTPField.Name("x-organization-id")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let rateLimitLimit = HTTPField.Name("X-RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("X-RateLimit-Remaining")!
    static let nextCursor = HTTPField.Name("X-Next-Cursor")!
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let d = ContinuousClock.now - start
        recordNanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }
}
