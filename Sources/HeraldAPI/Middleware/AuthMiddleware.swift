import HTTPTypes
import HeraldCore
import HeraldStore
import Hummingbird

/// Authenticates `Authorization: Bearer <apiKey>` against the hashed keys (API.md §1): missing,
/// unknown or revoked → 401; `x-organization-id` other than the key's → 403; a read key may
/// only GET.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let storage: Storage

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw APIError.unauthorized }
        let secret = parts[1].trimmingCharacters(in: .whitespaces)
        guard !secret.isEmpty, secret.count <= 200, let key = try await storage.organizations.authenticate(secret: secret) else {
            throw APIError.unauthorized
        }
        if let org = request.headers[.organizationId], org.lowercased() != key.organization.id {
            throw APIError.forbidden("x-organization-id does not match this API key's organization.")
        }
        if key.role == .read && request.method != .get && request.method != .head {
            throw APIError.forbidden("This API key has the read role and may only GET.")
        }
        var context = context
        context.apiKey = key
        context.logger[metadataKey: "api_key"] = .string(key.id)
        return try await next(request, context)
    }
}
