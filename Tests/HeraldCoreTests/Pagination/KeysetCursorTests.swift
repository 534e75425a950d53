import Foundation
import HeraldCore
import Testing

@Suite("Keyset cursor", .timeLimit(.minutes(10)))
struct KeysetCursorTests {
    static let list = "/api/contacts?sort="

    @Test("Round trip", arguments: [
        KeysetCursor(sortValue: 1_776_690_000_000, id: 42),
        KeysetCursor(sortValue: 0, id: 0),
        KeysetCursor(sortValue: .min, id: .max),
        KeysetCursor(sortValue: -1, id: -1),
        KeysetCursor(sortValue: 7, id: UUID(uuidString: "3f2504e0-4f89-11d3-9a0c-0305e82c3301")!),
        KeysetCursor(sortValue: 0, id: .text("vip")),
        KeysetCursor(sortValue: 0, id: .text("")),
        KeysetCursor(sortValue: 3, id: .text("zoë-🎉-" + String(repeating: "𝄞", count: 58))),
    ])
    func roundTrip(cursor: KeysetCursor) {
        let text = cursor.encoded(list: Self.list)
        #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(KeysetCursor(encoded: text, list: Self.list) == cursor)
    }

    @Test("Garbage decodes to nil", arguments: [
        "", "x", "====", "not a cursor", "AQEAAAAAAAAAAAAAAAAAAAAA", "%%%", String(repeating: "A", count: 200),
        "AQ", "/+/+", "AQEAAAAAAAAAAAAAAAAAAAAAAA==",
    ])
    func garbage(text: String) {
        #expect(KeysetCursor(encoded: text, list: Self.list) == nil)
    }

    @Test("Any single-character change is rejected", arguments: 0..<34)
    func tamper(position: Int) throws {
        let text = KeysetCursor(sortValue: 123_456_789, id: 987_654_321).encoded(list: Self.list)
        try #require(position < text.count)
        var chars = Array(text)
        chars[position] = chars[position] == "A" ? "B" : "A"
        #expect(KeysetCursor(encoded: String(chars), list: Self.list) == nil)
    }

    @Test("A text key is cut at a character boundary, never into invalid UTF-8")
    func longText() throws {
        let long = String(repeating: "é", count: KeysetCursor.maxTextBytes)
        let decoded = try #require(KeysetCursor(encoded: KeysetCursor(sortValue: 0, id: .text(long)).encoded(list: Self.list), list: Self.list))
        guard case .text(let key) = decoded.id else { Issue.record("not a text key"); return }
        #expect(key.utf8.count == KeysetCursor.maxTextBytes)
        #expect(long.hasPrefix(key))
    }

    @Test("A text cursor whose key is not UTF-8 is rejected")
    func invalidUTF8() {
        var bytes: [UInt8] = [KeysetCursor.currentVersion, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0x28]
        bytes.append(contentsOf: Self.fnvCheck(bytes))
        let text = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(KeysetCursor(encoded: text, list: Self.list) == nil)
        // The same frame with valid UTF-8 decodes, so the rejection above is the UTF-8 check.
        var good: [UInt8] = [KeysetCursor.currentVersion, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0xA9]
        good.append(contentsOf: Self.fnvCheck(good))
        let goodText = Data(good).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(KeysetCursor(encoded: goodText, list: Self.list) == KeysetCursor(sortValue: 0, id: .text("é")))
    }

    /// The cursor's check, computed independently: FNV-1a (64-bit) of the list, 0xFF and the frame.
    static func fnvCheck(_ bytes: [UInt8]) -> [UInt8] {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in Array(list.utf8) + [0xFF] + bytes { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return withUnsafeBytes(of: hash.bigEndian) { Array($0) }
    }

    @Test("A cursor is only good for the list and sort it was issued for", arguments: [
        "/api/campaigns?sort=", "/api/contacts?sort=created_at", "/api/lists/3f2504e0-4f89-11d3-9a0c-0305e82c3301/contacts?sort=", "",
    ])
    func otherList(list: String) {
        let text = KeysetCursor(sortValue: 5, id: 6).encoded(list: Self.list)
        #expect(KeysetCursor(encoded: text, list: list) == nil)
        #expect(KeysetCursor(encoded: KeysetCursor(sortValue: 5, id: 6).encoded(list: list), list: list) == KeysetCursor(sortValue: 5, id: 6))
    }

    @Test("Version 1 cursors (one check byte, no list) are refused")
    func versionOne() {
        var bytes: [UInt8] = [1, 1] + [UInt8](repeating: 0, count: 16)
        var hash: UInt32 = 0x811C_9DC5
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        bytes.append(UInt8(truncatingIfNeeded: hash ^ (hash >> 8) ^ (hash >> 16) ^ (hash >> 24)))
        let text = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(KeysetCursor(encoded: text, list: Self.list) == nil)
    }

    @Test("Truncations and extensions are rejected")
    func lengths() {
        let text = KeysetCursor(sortValue: 5, id: 6).encoded(list: Self.list)
        for length in 0..<text.count {
            #expect(KeysetCursor(encoded: String(text.prefix(length)), list: Self.list) == nil)
        }
        #expect(KeysetCursor(encoded: text + "A", list: Self.list) == nil)
        #expect(KeysetCursor(encoded: text + "AAAA", list: Self.list) == nil)
    }
}
