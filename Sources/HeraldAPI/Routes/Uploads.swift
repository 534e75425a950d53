import Foundation
import Hummingbird
import NIOCore

/// Streams an uploaded CSV to a file, never holding it in memory, enforcing the 512 MiB limit
/// (API.md §1). A `multipart/form-data` body is unwrapped to its `file` part as it streams.
struct UploadReceiver: Sendable {
    let directory: String
    static let maxBytes = 512 << 20

    func receive(_ body: RequestBody, multipartBoundary: String?) async throws -> String {
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
        var multipart = multipartBoundary.map { MultipartFileExtractor(boundary: $0) }
        for try await buffer in body {
            total += buffer.readableBytes
            if total > Self.maxBytes {
                throw APIError(.contentTooLarge, "payload_too_large", "The CSV is over the 512 MiB limit.")
            }
            let bytes = Array(buffer.readableBytesView)
            if multipart != nil {
                let out = try multipart!.feed(bytes)
                if !out.isEmpty { try handle.write(contentsOf: out) }
            } else {
                try handle.write(contentsOf: bytes)
            }
        }
        if multipart != nil {
            guard multipart!.finished else {
                throw APIError.invalidRequest("The multipart body has no complete part named file.", details: [.init(field: "file", message: "is required")])
            }
        }
        guard total > 0 else { throw APIError.invalidRequest("The CSV body is empty.") }
        ok = true
        return path
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
