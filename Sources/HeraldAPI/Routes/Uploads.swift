import Crypto
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// How an upload's body carries its CSV (API.md §3, `POST /api/contacts/import`): the body
/// itself (`text/csv`, `application/csv`, `text/plain`), or the `file` part of a
/// `multipart/form-data` body.
struct UploadFormat: Sendable, Hashable {
    /// The multipart boundary; nil when the body is the CSV itself.
    let multipartBoundary: String?

    /// The format of a body of this `Content-Type`; 415 for a type that carries no CSV.
    init(contentType: String?) throws {
        let type = (contentType ?? "").lowercased()
        let isMultipart = type.hasPrefix("multipart/form-data")
        guard type.hasPrefix("text/csv") || type.hasPrefix("application/csv") || isMultipart || type.hasPrefix("text/plain") else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "Send the CSV as text/csv, or as multipart/form-data with a field named file.")
        }
        multipartBoundary = isMultipart ? Self.boundary(contentType: contentType ?? "") : nil
    }

    static func boundary(contentType: String) -> String? {
        for part in contentType.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces)
            if kv.lowercased().hasPrefix("boundary=") {
                return String(kv.dropFirst("boundary=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }
}

/// An uploaded CSV stored in a file by `UploadReceiver`.
struct ReceivedUpload: Sendable {
    /// The file holding the CSV (the `file` part alone for a multipart body).
    let path: String
    /// SHA-256 of the file's bytes, when the receiver was asked for it.
    let sha256: [UInt8]?
}

/// Streams an uploaded CSV to a file, never holding it in memory, enforcing the 512 MiB limit
/// (API.md §1). A `multipart/form-data` body is unwrapped to its `file` part as it streams.
struct UploadReceiver: Sendable {
    let directory: String
    static let maxBytes = 512 << 20

    /// Receives `body` into a new file of `directory`; with `fingerprint`, hashes the stored
    /// bytes (SHA-256) as they are written. The file is removed again when receiving fails.
    func receive(_ body: RequestBody, format: UploadFormat, fingerprint: Bool = false) async throws -> ReceivedUpload {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("import-\(UUID().uuidString.lowercased()).csv")
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw APIError(.internalServerError, "internal_error", "Could not store the upload.")
        }
        var ok = false
        defer {
            try? handle.close()
            if !ok { try? FileManager.default.removeItem(atPath: path) }
        }
        var total = 0
        var multipart = format.multipartBoundary.map { MultipartFileExtractor(boundary: $0) }
        var hasher = fingerprint ? SHA256() : nil
        for try await buffer in body {
            total += buffer.readableBytes
            if total > Self.maxBytes {
                throw APIError(.contentTooLarge, "payload_too_large", "The CSV is over the 512 MiB limit.")
            }
            var bytes = Array(buffer.readableBytesView)
            if multipart != nil { bytes = try multipart!.feed(bytes) }
            if !bytes.isEmpty {
                try handle.write(contentsOf: bytes)
                hasher?.update(data: bytes)
            }
        }
        if multipart != nil {
            guard multipart!.finished else {
                throw APIError.invalidRequest("The multipart body has no complete part named file.", details: [.init(field: "file", message: "is required")])
            }
        }
        guard total > 0 else { throw APIError.invalidRequest("The CSV body is empty.") }
        ok = true
        return ReceivedUpload(path: path, sha256: hasher.map { Array($0.finalize()) })
    }
}

/// An upload received before its route ran (by `IdempotencyMiddleware`, which needs its bytes
/// to fingerprint the request): the route takes the file; whatever no route took is removed
/// once the request is answered (a replay, a conflict, a refused request).
final class SpooledUpload: Sendable {
    private let file: Mutex<String?>

    init(path: String) { file = Mutex(path) }

    /// The file, for the one route that imports it; nil once taken.
    func take() -> String? {
        file.withLock { path in
            defer { path = nil }
            return path
        }
    }

    /// Removes the file unless a route took it.
    func discard() {
        if let path = take() { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// A streaming reader of one `multipart/form-data` part named `file` (RFC 7578): bytes before
/// the part's headers end are skipped; bytes up to the closing delimiter are passed through.
struct MultipartFileExtractor {
    enum State { case preamble, headers, body, done }
    let delimiter: [UInt8]
    var state: State = .preamble
    var pending: [UInt8] = []
    var isFilePart = false
    var finished: Bool { state == .done }

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    mutating func feed(_ bytes: [UInt8]) throws -> [UInt8] {
        pending += bytes
        var out: [UInt8] = []
        while true {
            switch state {
            case .preamble:
                // The first delimiter may lack its leading CRLF.
                let first = Array(delimiter.dropFirst(2))
                guard let r = pending.firstRange(of: first) else {
                    if pending.count > 64 << 10 { throw APIError.invalidRequest("The multipart body has no boundary.") }
                    return out
                }
                pending.removeFirst(r.upperBound)
                state = .headers
            case .headers:
                guard let r = pending.firstRange(of: Array("\r\n\r\n".utf8)) else {
                    if pending.count > 64 << 10 { throw APIError.invalidRequest("A multipart part header is too long.") }
                    return out
                }
                let headers = String(decoding: pending[..<r.lowerBound], as: UTF8.self).lowercased()
                isFilePart = headers.contains("name=\"file\"") || headers.contains("name=file")
                pending.removeFirst(r.upperBound)
                state = .body
            case .body:
                if let r = pending.firstRange(of: delimiter) {
                    if isFilePart {
                        out += pending[..<r.lowerBound]
                        pending.removeAll()
                        state = .done
                        return out
                    }
                    pending.removeFirst(r.upperBound)
                    state = .headers
                } else {
                    let keep = delimiter.count
                    if pending.count > keep {
                        if isFilePart { out += pending[..<(pending.count - keep)] }
                        pending.removeFirst(pending.count - keep)
                    }
                    return out
                }
            case .done:
                pending.removeAll()
                return out
            }
        }
    }
}
