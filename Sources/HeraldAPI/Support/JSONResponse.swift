import HTTPTypes
import Foundation
import HeraldCore
import Hummingbird

/// JSON values for responses. Built explicitly so that null fields are written as `null`.
public typealias JSON = FilterJSON

extension FilterJSON {
    public static func opt(_ s: String?) -> FilterJSON { s.map { .string($0) } ?? .null }
    public static func int(_ i: Int64) -> FilterJSON { .number(Double(i)) }
    public static func int(_ i: Int) -> FilterJSON { .number(Double(i)) }
    public static func instant(_ ms: Int64) -> FilterJSON { .string(Instant.format(ms)) }
    public static func instant(_ ms: Int64?) -> FilterJSON { ms.map { .string(Instant.format($0)) } ?? .null }
    public static func strings(_ a: [String]) -> FilterJSON { .array(a.map { .string($0) }) }
}

/// RFC 3339 instants in UTC with milliseconds (API.md §1).
public enum Instant {
    public static func format(_ ms: Int64) -> String {
        ContactFilter.formatInstant(epochMilliseconds: ms)
    }

    /// Parses RFC 3339 with an offset; nil for anything else (a time without offset included).
    public static func parse(_ s: String) -> Int64? {
        ContactFilter.parseInstant(s)
    }
}

/// Encodes JSON responses.
public enum JSONResponse {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    public static func bytes(_ value: FilterJSON) -> [UInt8] {
        (try? Array(encoder.encode(value))) ?? Array("null".utf8)
    }

    public static func make(_ value: FilterJSON, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes(value))))
    }

    public static func noContent() -> Response {
        Response(status: .noContent)
    }
}
