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
