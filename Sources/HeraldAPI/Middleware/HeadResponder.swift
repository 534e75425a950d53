import HTTPTypes
import Hummingbird

/// Answers HEAD as GET without the body (RFC 9110 §9.3.2: a server must support HEAD wherever
/// it supports GET): the same route, authentication, status and headers. It wraps the whole
/// router, because the router picks a route by method before any middleware runs.
struct HeadResponder<Base: HTTPResponder>: HTTPResponder where Base.Context == HeraldRequestContext {
    let base: Base

    func respond(to request: Request, context: HeraldRequestContext) async throws -> Response {
        guard request.method == .head else { return try await base.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await base.respond(to: Request(head: head, body: request.body), context: context)
        response.body = ResponseBody()
        return response
    }
}
