import Foundation
import HeraldCore
import Testing

@Suite("Keyset cursor")
struct KeysetCursorTests {
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
        let text = cursor.encoded
        #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(KeysetCursor(encoded: text) == cursor)
    }

    @Test("Garbage decodes to nil", arguments: [
        "", "x", "====", "not a cursor", "AQEAAAAAAAAAAAAAAAAAAAAA", "%%%", String(repeating: "A", count: 200),
        "AQ", "/+/+", "AQEAAAAAAAAAAAAAAAAAAAAAAA==",
    ])
    func garbage(text: String) {
        #expect(KeysetCursor(encoded: text) == nil)
    }

    @Test("Any single-character change is rejected", arguments: 0..<24)
    func tamper(position: Int) throws {
        let text = KeysetCursor(sortValue: 123_456_789, id: 987_654_321).encoded
        try #require(position < text.count)
        var chars = Array(text)
        chars[position] = chars[position] == "A" ? "B" : "A"
        #expect(KeysetCursor(encoded: String(chars)) == nil)
    }

    @Test("A text key is cut at a character boundary, never into invalid UTF-8")
    func longText() throws {
        let long = String(repeating: "é", count: KeysetCursor.maxTextBytes)
        let decoded = try #require(KeysetCursor(encoded: KeysetCursor(sortValue: 0, id: .text(long)).encoded))
        guard case .text(let key) = decoded.id else { Issue.record("not a text key"); return }
        #expect(key.utf8.count == KeysetCursor.maxTextBytes)
        #expect(long.hasPrefix(key))
    }

    @Test("A text cursor whose key is not UTF-8 is rejected")
    func invalidUTF8() {
        var bytes: [UInt8] = [KeysetCursor.currentVersion, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0x28]
        bytes.append(Self.fnvCheck(bytes))
        let text = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(KeysetCursor(encoded: text) == nil)
        // The same frame with valid UTF-8 decodes, so the rejection above is the UTF-8 check.
        var good: [UInt8] = [KeysetCursor.currentVersion, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0xA9]
        good.append(Self.fnvCheck(good))
        let goodText = Data(good).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(KeysetCursor(encoded: goodText) == KeysetCursor(sortValue: 0, id: .text("é")))
    }

    /// The cursor's check byte, computed independently (FNV-1a folded to one byte).
    static func fnvCheck(_ bytes: [UInt8]) -> UInt8 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return UInt8(truncatingIfNeeded: hash ^ (hash >> 8) ^ (hash >> 16) ^ (hash >> 24))
    }

    @Test("Truncations and extensions are rejected")
    func lengths() {
        let text = KeysetCursor(sortValue: 5, id: 6).encoded
        for length in 0..<text.count {
            #expect(KeysetCursor(encoded: String(text.prefix(length))) == nil)
        }
        #expect(KeysetCursor(encoded: text + "A") == nil)
        #expect(KeysetCursor(encoded: text + "AAAA") == nil)
    }
}
