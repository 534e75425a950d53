import HeraldCore
import Hummingbird
import Logging

/// Per-request state: the request id, and once authenticated, the API key.
public struct HeraldRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestId: String = ""
    public var apiKey: APIKey?
    /// A CSV upload already received by the idempotency middleware, for the import route.
    var upload: SpooledUpload?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// JSON bodies are capped at 1 MiB (API.md §1); the CSV import streams its body instead.
    public var maxUploadSize: Int { 1 << 20 }

    /// The authenticated organization; routes behind the auth middleware always have one.
    public func scope() throws -> OrganizationScope {
        guard let key = apiKey else { throw APIError.unauthorized }
        return key.organization
    }

    /// Throws 403 unless the key's role is at least `role`.
    public func require(_ role: APIKeyRole) throws {
        guard let key = apiKey else { throw APIError.unauthorized }
        guard key.role >= role else {
            throw APIError.forbidden("This action needs an API key with the \(role.rawValue) role; this key is \(key.role.rawValue).")
        }
    }
}
