import Foundation

/// An opaque keyset-pagination cursor (API.md §1 `cursor` / `nextCursor`): the sort value and
/// the id of the last row of a page, so the next page is `WHERE (sort, id) < (?, ?)`.
///
/// Wire form: URL-safe base64 without padding (RFC 4648 §5) of
/// `version(1) | idKind(1) | sortValue(8, big-endian) | id(8, 16 or the UTF-8 of a text key) | check(8)`, where
/// `check` is the 64-bit FNV-1a hash of the list the cursor belongs to and the rest. So a cursor
/// is only good for the list (and sort) it was issued for: `init?(encoded:list:)` returns `nil`
/// for anything malformed, altered or issued for another list, which the API reports as 400
/// `invalid_request` on `cursor`. The check is not a secret MAC: a client that computes it can
/// build a cursor, which only moves it within its own organization's list.
public struct KeysetCursor: Sendable, Hashable {
    /// The tie-breaking id of the row.
    public enum ID: Sendable, Hashable {
        case int64(Int64)
        case uuid(UUID)
        /// A text key (for rows keyed by a name, like tags), at most `maxTextBytes` of UTF-8.
        case text(String)
    }

    /// The longest text key a cursor carries, in UTF-8 bytes (a 64-character tag of 4-byte
    /// characters is 256).
    public static let maxTextBytes = 300

    /// The longest wire form: the base64 of the largest frame (a text key of `maxTextBytes`).
    static let maxEncodedLength = ((2 + 8 + maxTextBytes + checkLength) * 4 + 2) / 3

    /// Version 2 binds the check to the list; version 1 cursors (a one-byte check) are refused.
    public static let currentVersion: UInt8 = 2
    static let checkLength = 8

    /// The sort column value of the last row (e.g. `updated_at` in epoch milliseconds).
    public var sortValue: Int64
    public var id: ID

    public init(sortValue: Int64, id: ID) {
        self.sortValue = sortValue
        self.id = id
    }

    public init(sortValue: Int64, id: Int64) {
        self.init(sortValue: sortValue, id: .int64(id))
    }

    public init(sortValue: Int64, id: UUID) {
        self.init(sortValue: sortValue, id: .uuid(id))
    }

    /// The opaque string to hand to clients of `list` (the API uses the path and the sort).
    public func encoded(list: String) -> String {
        var bytes: [UInt8] = [KeysetCursor.currentVersion]
        func append(_ value: Int64) {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        switch id {
        case .int64(let value):
            bytes.append(1)
            append(sortValue)
            append(value)
        case .uuid(let value):
            bytes.append(2)
            append(sortValue)
            withUnsafeBytes(of: value.uuid) { bytes.append(contentsOf: $0) }
        case .text(let value):
            bytes.append(3)
            append(sortValue)
            // Longer keys are cut at a character boundary (callers keep them shorter).
            var key = Substring(value)
            while key.utf8.count > KeysetCursor.maxTextBytes { key = key.dropLast() }
            bytes.append(contentsOf: key.utf8)
        }
        bytes.append(contentsOf: KeysetCursor.check(bytes, list: list))
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a cursor of `list`; `nil` for anything that is not exactly a cursor this code
    /// wrote for that list.
    public init?(encoded: String, list: String) {
        guard encoded.utf8.count <= Self.maxEncodedLength,
              encoded.utf8.allSatisfy({ byte in
                  (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                      || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
              }),
              encoded.utf8.count % 4 != 1
        else { return nil }
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        let bytes = [UInt8](data)
        guard bytes.count >= 2, bytes[0] == KeysetCursor.currentVersion else { return nil }
        let expectedCount: Int
        switch bytes[1] {
        case 1: expectedCount = 2 + 8 + 8 + Self.checkLength
        case 2: expectedCount = 2 + 8 + 16 + Self.checkLength
        case 3 where bytes.count >= 2 + 8 + Self.checkLength && bytes.count <= 2 + 8 + KeysetCursor.maxTextBytes + Self.checkLength: expectedCount = bytes.count
        default: return nil
        }
        let frameEnd = expectedCount - Self.checkLength
        guard bytes.count == expectedCount,
              bytes[frameEnd...].elementsEqual(KeysetCursor.check(bytes[..<frameEnd], list: list))
        else { return nil }
        func int64(at offset: Int) -> Int64 {
            bytes[offset..<offset + 8].reduce(0) { ($0 << 8) | Int64($1) }
        }
        let sortValue = int64(at: 2)
        let id: ID
        if bytes[1] == 1 {
            id = .int64(int64(at: 10))
        } else if bytes[1] == 3 {
            guard let text = String(validating: bytes[10..<frameEnd], as: UTF8.self) else { return nil }
            id = .text(text)
        } else {
            let u = Array(bytes[10..<26])
            id = .uuid(UUID(uuid: (u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
                                   u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15])))
        }
        self.init(sortValue: sortValue, id: id)
        // Re-encoding must give back the same text (rejects non-canonical base64 tails).
        guard self.encoded(list: list) == encoded else { return nil }
    }

    /// FNV-1a (64-bit) of the list's UTF-8, a 0xFF separator (never in UTF-8) and the frame,
    /// big-endian.
    static func check<C: Collection<UInt8>>(_ frame: C, list: String) -> [UInt8] {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in list.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        hash = (hash ^ 0xFF) &* 0x0000_0100_0000_01B3
        for byte in frame { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return (0..<8).map { UInt8(truncatingIfNeeded: hash >> (56 - 8 * UInt64($0))) }
    }
}
