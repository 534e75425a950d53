import Testing
@testable import HeraldCore

/// The GSM 03.38 default alphabet, typed out independently from the implementation, in septet
/// order (3GPP TS 23.038 §6.2.1). "\u{1B}" (ESC) at 0x1B is not a character.
private let expectedBasicAlphabet: [Character] = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1B}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
).unicodeScalars.map(Character.init)

/// The extension table with its codes (3GPP TS 23.038 §6.2.1.1, DOMAIN.md §1.2).
private let expectedExtension: [(Character, UInt8)] = [
    ("\u{0C}", 0x0A), ("^", 0x14), ("{", 0x28), ("}", 0x29), ("\\", 0x2F),
    ("[", 0x3C), ("~", 0x3D), ("]", 0x3E), ("|", 0x40), ("€", 0x65),
]

private let basicCharacters: [Character] = expectedBasicAlphabet.filter { $0 != "\u{1B}" }

private func repeated(_ text: String, _ count: Int) -> String { String(repeating: text, count: count) }

@Suite("GSM-7 alphabet", .timeLimit(.minutes(10)))
struct GSM7AlphabetTests {
    @Test func basicTableMatchesTS23038Positions() {
        #expect(expectedBasicAlphabet.count == 128)
        #expect(GSM7Alphabet.basicTable.count == 128)
        for (position, expected) in expectedBasicAlphabet.enumerated() {
            let actual = GSM7Alphabet.basicTable[position].map { Character($0) }
            if position == 0x1B {
                #expect(actual == nil, "0x1B is ESC, not a character")
            } else {
                #expect(actual == expected, "position 0x\(String(position, radix: 16))")
            }
        }
    }

    @Test func extensionTableMatchesTS23038Codes() {
        #expect(GSM7Alphabet.extensionTable.map { Character($0.scalar) } == expectedExtension.map(\.0))
        #expect(GSM7Alphabet.extensionTable.map(\.code) == expectedExtension.map(\.1))
    }

    @Test("every base character is one septet", arguments: basicCharacters)
    func basicCharacterCostsOneSeptet(_ character: Character) {
        let text = String(character)
        #expect(SegmentCounter.count(text) == SegmentCount(encoding: .gsm7, segments: 1, length: 1))
        #expect(SegmentCounter.count(repeated(text, 160)) == SegmentCount(encoding: .gsm7, segments: 1, length: 160))
        #expect(SegmentCounter.count(repeated(text, 161)) == SegmentCount(encoding: .gsm7, segments: 2, length: 161))
        #expect(SegmentCounter.nonGsmCharacters(in: text).isEmpty)
    }

    @Test("every extension character is two septets", arguments: expectedExtension.map(\.0))
    func extensionCharacterCostsTwoSeptets(_ character: Character) {
        let text = String(character)
        #expect(SegmentCounter.count(text) == SegmentCount(encoding: .gsm7, segments: 1, length: 2))
        #expect(SegmentCounter.count(repeated(text, 80)) == SegmentCount(encoding: .gsm7, segments: 1, length: 160))
        // 81 × 2 = 162 septets: parts hold 76 pairs (152 septets) because a pair is never split.
        let split = MessageSplitter.split(repeated(text, 81))
        #expect(split.parts == [repeated(text, 76), repeated(text, 5)])
        #expect(SegmentCounter.count(repeated(text, 81)).segments == 2)
        #expect(SegmentCounter.count(repeated(text, 153)).segments == 3, "306 septets at 76 pairs per part")
    }

    /// Characters that are not in base ∪ extension force UCS-2, including look-alikes.
    @Test(arguments: [
        "`", "ç", "á", "’", "“", "—", "\u{1B}", "\t", "\u{2126}" /* Ohm sign, not Ω U+03A9 */,
        "\u{00A0}", "😀", "中", "É\u{0301}", "\u{200B}",
    ])
    func nonGsmCharacterForcesUCS2(_ text: String) {
        let count = SegmentCounter.count("Hello " + text)
        #expect(count.encoding == .ucs2)
        #expect(count.length == 6 + text.utf16.count)
        #expect(SegmentCounter.nonGsmCharacters(in: "Hello " + text) == [text])
    }

    @Test func nonGsmCharactersAreUniqueInOrderOfAppearance() {
        let text = "Caf\u{E9} ça 😀 “hi” ça 👍🏽 中 😀 `"
        #expect(SegmentCounter.nonGsmCharacters(in: text) == ["ç", "😀", "“", "”", "👍🏽", "中", "`"])
        #expect(SegmentCounter.nonGsmCharacters(in: "plain {GSM} €") == [])
    }
}

/// One row of the boundary table: text, expected encoding, segments, length, and optionally the
/// expected first part.
fileprivate struct SegmentCase: Sendable, CustomTestStringConvertible {
    let label: String
    let text: String
    let encoding: MessageEncoding
    let segments: Int
    let length: Int
    var firstPart: String?

    var testDescription: String { label }
}

private let family = "👨‍👩‍👧‍👦"  // 4 × 2 + 3 ZWJ = 11 units
private let thumbsMedium = "👍🏽"  // 2 + 2 = 4 units
private let flagUS = "🇺🇸"  // 4 units
private let keycapOne = "1️⃣"  // 1 + 1 + 1 = 3 units
private let longZWJ = Array(repeating: "👨", count: 30).joined(separator: "\u{200D}")  // 30×2 + 29 = 89 units, one cluster
private let manyAccents = "e" + String(repeating: "\u{0301}", count: 80)  // one cluster, 81 units

private let segmentCases: [SegmentCase] = [
    SegmentCase(label: "empty", text: "", encoding: .gsm7, segments: 0, length: 0),
    SegmentCase(label: "160 septets", text: repeated("a", 160), encoding: .gsm7, segments: 1, length: 160),
    SegmentCase(label: "161 septets", text: repeated("a", 161), encoding: .gsm7, segments: 2, length: 161,
                firstPart: repeated("a", 153)),
    SegmentCase(label: "306 septets", text: repeated("a", 306), encoding: .gsm7, segments: 2, length: 306),
    SegmentCase(label: "307 septets", text: repeated("a", 307), encoding: .gsm7, segments: 3, length: 307),
    SegmentCase(label: "459 septets", text: repeated("a", 459), encoding: .gsm7, segments: 3, length: 459),
    SegmentCase(label: "460 septets", text: repeated("a", 460), encoding: .gsm7, segments: 4, length: 460),
    SegmentCase(label: "158 + € = 160", text: repeated("a", 158) + "€", encoding: .gsm7, segments: 1, length: 160),
    SegmentCase(label: "159 + € = 161", text: repeated("a", 159) + "€", encoding: .gsm7, segments: 2, length: 161,
                firstPart: repeated("a", 153)),
    SegmentCase(label: "153 + 1 septet", text: repeated("a", 154) + repeated("b", 10), encoding: .gsm7, segments: 2,
                length: 164, firstPart: repeated("a", 153)),
    SegmentCase(label: "escape straddles 153: part ends at 152", text: repeated("a", 152) + "€" + repeated("a", 152),
                encoding: .gsm7, segments: 3, length: 306, firstPart: repeated("a", 152)),
    SegmentCase(label: "escape ends exactly at 153", text: repeated("a", 151) + "{" + repeated("a", 153),
                encoding: .gsm7, segments: 2, length: 306, firstPart: repeated("a", 151) + "{"),
    SegmentCase(label: "CRLF is two septets", text: repeated("\r\n", 80), encoding: .gsm7, segments: 1, length: 160),
    SegmentCase(label: "70 units", text: repeated("ç", 70), encoding: .ucs2, segments: 1, length: 70),
    SegmentCase(label: "71 units", text: repeated("ç", 71), encoding: .ucs2, segments: 2, length: 71,
                firstPart: repeated("ç", 67)),
    SegmentCase(label: "134 units", text: repeated("ç", 134), encoding: .ucs2, segments: 2, length: 134),
    SegmentCase(label: "135 units", text: repeated("ç", 135), encoding: .ucs2, segments: 3, length: 135),
    SegmentCase(label: "35 emoji = 70 units", text: repeated("😀", 35), encoding: .ucs2, segments: 1, length: 70),
    SegmentCase(label: "surrogate pair straddles 67", text: repeated("ç", 66) + "😀" + repeated("ç", 66),
                encoding: .ucs2, segments: 3, length: 134, firstPart: repeated("ç", 66)),
    SegmentCase(label: "skin tone straddles 67", text: repeated("ç", 65) + thumbsMedium + repeated("ç", 64),
                encoding: .ucs2, segments: 3, length: 133, firstPart: repeated("ç", 65)),
    SegmentCase(label: "ZWJ family straddles 67", text: repeated("ç", 60) + family + repeated("ç", 62),
                encoding: .ucs2, segments: 3, length: 133, firstPart: repeated("ç", 60)),
    SegmentCase(label: "flag straddles 67", text: repeated("ç", 64) + flagUS + repeated("ç", 65),
                encoding: .ucs2, segments: 3, length: 133, firstPart: repeated("ç", 64)),
    SegmentCase(label: "keycap straddles 67", text: repeated("ç", 65) + keycapOne + repeated("ç", 65),
                encoding: .ucs2, segments: 3, length: 133, firstPart: repeated("ç", 65)),
    SegmentCase(label: "keycap fits single", text: repeated("ç", 65) + keycapOne, encoding: .ucs2, segments: 1,
                length: 68),
    SegmentCase(label: "oversized ZWJ cluster split at scalars", text: longZWJ, encoding: .ucs2, segments: 2,
                length: 89),
    SegmentCase(label: "oversized combining cluster", text: manyAccents, encoding: .ucs2, segments: 2, length: 81,
                firstPart: "e" + String(repeating: "\u{0301}", count: 66)),
    SegmentCase(label: "CJK 70", text: repeated("中", 70), encoding: .ucs2, segments: 1, length: 70),
    SegmentCase(label: "CJK 71", text: repeated("中", 71), encoding: .ucs2, segments: 2, length: 71),
    SegmentCase(label: "mixed", text: "Hello 👋 world, 你好! {x}", encoding: .ucs2, segments: 1, length: 23),
    SegmentCase(label: "mixed multi", text: repeated("Sale € ", 9) + "☕️" + repeated("ok ", 5), encoding: .ucs2,
                segments: 2, length: 63 + 2 + 15),
]

@Suite("Segment counting and splitting", .timeLimit(.minutes(10)))
struct SegmentCounterTests {
    @Test(arguments: segmentCases)
    fileprivate func countAndSplit(_ row: SegmentCase) throws {
        #expect(SegmentCounter.count(row.text) == SegmentCount(encoding: row.encoding, segments: row.segments, length: row.length))
        let split = MessageSplitter.split(row.text)
        #expect(split.encoding == row.encoding)
        #expect(split.parts.count == row.segments)
        #expect(split.parts.joined() == row.text)
        if let firstPart = row.firstPart {
            #expect(try #require(split.parts.first) == firstPart)
        }
    }

    @Test func oversizedClusterNeverSplitsASurrogatePair() throws {
        let parts = MessageSplitter.split(longZWJ).parts
        #expect(parts.count == 2)
        // 67 units would end in the middle of "👨" (a pair), so the first part stops at 66.
        #expect(try #require(parts.first).utf16.count == 66)
        #expect(parts.allSatisfy { $0.utf16.count <= 67 })
    }

    @Test func nonContiguousStringsAreCounted() {
        let substring = repeated("a", 200).dropFirst(39)
        #expect(SegmentCounter.count(String(substring)).segments == 2)
    }
}
