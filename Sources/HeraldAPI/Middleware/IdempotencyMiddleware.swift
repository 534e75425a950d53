import HTTPTypes
import Crypto
import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

/// `Idempotency-Key` on POST (API.md §1): the same key with the same body within 24 hours returns
/// the first response and does nothing again; the same key with another body is a 409.
/// Server errors release the key so that a retry runs again. Kept responses are sealed
/// (`IdempotentResponseSeal`): the database never holds them in the clear.
///
/// The key covers the method, path, query and body. A JSON body (≤ 1 MiB) is read into memory.
/// On the routes that take a CSV upload (`uploads` set) the body is received to a file first,
/// streamed and hashed as it is written (never held in memory), and only then is the key claimed:
/// the route imports that file (`HeraldRequestContext.upload`); on a replay or a conflict it is
/// removed. What is hashed is the CSV itself (a multipart body's `file` part), so a retry whose
/// multipart boundary differs is still the same request.
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let storage: Storage
    /// Where the routes behind this middleware receive CSV uploads; nil for JSON routes.
    var uploads: UploadReceiver?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // A read key may not POST at all (the route answers 403 without reading the body): no
        // upload is received and no response kept for it.
        guard request.method == .post, let idemKey = request.headers[.idempotencyKey], let apiKey = context.apiKey, apiKey.role != .read else {
            return try await next(request, context)
        }
        guard !idemKey.isEmpty, idemKey.count <= 255 else {
            throw APIError.invalidRequest("Idempotency-Key must be 1 to 255 characters.", details: [FieldIssue(field: "Idempotency-Key", message: "must be 1 to 255 characters")])
        }
        var request = request
        var context = context
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8))
        if let uploads {
            let received = try await uploads.receive(request.body, format: try UploadFormat(contentType: request.headers[.contentType]), fingerprint: true)
            hasher.update(data: Data("csv ".utf8))
            hasher.update(data: received.sha256 ?? [])
            request.body = RequestBody(buffer: ByteBuffer())
            context.upload = SpooledUpload(path: received.path)
        } else {
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            hasher.update(data: Data(buffer: body))
            request.body = RequestBody(buffer: body)
        }
        // Whatever happens below, an upload the route did not take is not left behind.
        defer { context.upload?.discard() }
        let hash = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let scope = apiKey.organization
        // The bearer secret the authentication accepted: the kept response is sealed under it.
        let secret = request.headers[.authorization]?.split(separator: " ", maxSplits: 1).last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        let sealKey = IdempotentResponseSeal.key(apiSecret: secret, idempotencyKey: idemKey)
        switch try await storage.idempotency.claim(scope, apiKey: apiKey.key, key: idemKey, requestHash: hash) {
        case .mismatch:
            throw APIError(.conflict, "conflict", "This Idempotency-Key was used with a different request.", details: [FieldIssue(field: "Idempotency-Key", message: "was used with a different request body")])
        case .inProgress:
            throw APIError(.conflict, "conflict", "A request with this Idempotency-Key is still being processed.", details: [FieldIssue(field: "Idempotency-Key", message: "request in progress")])
        case .replay(let status, let contentType, let sealed):
            guard let body = IdempotentResponseSeal.open(sealed, with: sealKey) else {
                throw APIError(.conflict, "conflict", "This Idempotency-Key was used with a different request.", details: [FieldIssue(field: "Idempotency-Key", message: "was used with a different request body")])
            }
            var headers: HTTPFields = [:]
            if let contentType { headers[.contentType] = contentType }
            headers[HTTPField.Name("Idempotent-Replayed")!] = "true"
            return Response(status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        case .claimed:
            let response: Response
            do {
                response = try await next(request, context)
            } catch {
                let apiError = APIError.from(error)
                if apiError.status.code >= 500 {
                    try? await storage.idempotency.release(apiKey: apiKey.key, key: idemKey)
                    throw error
                }
                let errorResponse = RequestIdMiddleware.errorResponse(apiError, requestId: context.requestId)
                try await storage.idempotency.complete(apiKey: apiKey.key, key: idemKey, status: Int(apiError.status.code), contentType: "application/json; charset=utf-8",
                                                       body: try IdempotentResponseSeal.seal(JSONResponse.bytes(Self.errorJSON(apiError, requestId: context.requestId)), with: sealKey))
                return errorResponse
            }
            let collector = BodyCollector()
            var replay = response
            try await response.body.write(CollectingWriter(collector: collector))
            let bytes = collector.bytes
            replay.body = .init(byteBuffer: ByteBuffer(bytes: bytes))
            try await storage.idempotency.complete(apiKey: apiKey.key, key: idemKey, status: Int(response.status.code), contentType: response.headers[.contentType],
                                                   body: try IdempotentResponseSeal.seal(bytes, with: sealKey))
            return replay
        }
    }

    static func errorJSON(_ e: APIError, requestId: String) -> JSON {
        .object([
            "error": .string(e.code), "message": .string(e.message),
            "details": .array(e.details.map { .object(["field": .string($0.field), "message": .string($0.message)]) }),
            "requestId": .string(requestId),
        ])
    }
}

final class BodyCollector: @unchecked Sendable {
    var bytes: [UInt8] = []
}

struct CollectingWriter: ResponseBodyWriter {
    let collector: BodyCollector

    mutating func write(_ buffer: ByteBuffer) async throws {
        collector.bytes.append(contentsOf: buffer.readableBytesView)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
