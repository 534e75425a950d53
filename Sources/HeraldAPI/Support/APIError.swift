import HTTPTypes
import HeraldCore
import HeraldStore
import Hummingbird
import NIOCore

/// An error as the API reports it (API.md §1): a status, a code, a sentence and the failing fields.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: [FieldIssue]
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: [FieldIssue] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    public static func invalidRequest(_ message: String, details: [FieldIssue] = []) -> APIError {
        APIError(.badRequest, "invalid_request", message, details: details)
    }

    public static func invalidState(_ message: String) -> APIError {
        APIError(.badRequest, "invalid_state", message)
    }

    public static func validation(_ issues: [FieldIssue]) -> APIError {
        let fields = issues.map(\.field)
        var seen = Set<String>()
        let unique = fields.filter { seen.insert($0).inserted }
        return APIError(.unprocessableContent, "validation_error", "The request is invalid: check \(unique.joined(separator: ", ")).", details: issues)
    }

    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, "not_found", "No such \(what) in this organization.")
    }

    public static let unauthorized = APIError(.unauthorized, "unauthorized", "A valid API key is required: send Authorization: Bearer <apiKey>.")

    public static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, "forbidden", message)
    }

    /// Maps any error to what the client sees; nothing internal leaks.
    public static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as ValidationError: return .validation(e.issues)
        case let e as StoreError:
            switch e {
            case .notFound(let what): return .notFound(what)
            case .conflict(let field, let message): return APIError(.conflict, "conflict", message, details: [FieldIssue(field: field, message: message)])
            case .invalidState(let message): return .invalidState(message)
            }
        case is NIOTooManyBytesError:
            // `request.body.collect(upTo:)` over the 1 MiB JSON limit.
            return APIError(.contentTooLarge, "payload_too_large", "The request body is over the limit.")
        case let e as HTTPError:
            switch e.status {
            case .contentTooLarge: return APIError(.contentTooLarge, "payload_too_large", "The request body is over the limit.")
            case .notFound: return APIError(.notFound, "not_found", "No such endpoint.")
            case .methodNotAllowed: return APIError(.methodNotAllowed, "method_not_allowed", "This method is not allowed here.")
            case .badRequest: return .invalidRequest(e.body ?? "The request is malformed.")
            case .unsupportedMediaType: return APIError(.unsupportedMediaType, "unsupported_media_type", e.body ?? "Unsupported content type.")
            default:
                if e.status.code < 500 { return APIError(e.status, "invalid_request", e.body ?? e.status.reasonPhrase) }
                return APIError(.internalServerError, "internal_error", "Something went wrong on our side.")
            }
        default:
            return APIError(.internalServerError, "internal_error", "Something went wrong on our side.")
        }
    }
}
