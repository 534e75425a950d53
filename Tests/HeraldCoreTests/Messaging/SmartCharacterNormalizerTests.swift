import Testing
@testable import HeraldCore

@Suite("Smart character normalization (DOMAIN.md §1.6)", .timeLimit(.minutes(10)))
struct SmartCharacterNormalizerTests {
    @Test(arguments: [
        ("\u{201C}Hi\u{201D} \u{201E}x\u{201F} \u{00AB}y\u{00BB} \u{FF02}", "\"Hi\" \"x\" \"y\" \""),
        ("it\u{2019}s \u{2018}ok\u{201B} \u{02BC}a\u{00B4} `b`", "it's 'ok' 'a' 'b'"),
        ("a\u{2013}b\u{2014}c\u{2010}d\u{2015}e\u{FF0D}f", "a-b-c-d-e-f"),
        ("wait\u{2026}", "wait..."),
        ("a\u{00A0}b\u{2000}c\u{2005}d\u{200A}e\u{202F}f\u{205F}g\u{3000}h", "a b c d e f g h"),
        ("zero\u{200B}width\u{2060}joiner\u{FEFF}", "zerowidthjoiner"),
        ("\u{2022} item", "- item"),
        ("\u{00BC} \u{00BD} \u{00BE} cup", "1/4 1/2 3/4 cup"),
        ("\u{FF21}\u{FF42}\u{FF43}\u{FF11}\u{FF01}\u{FF5E}\u{FF40}", "Abc1!~'"),
        ("Emoji 😀 and 中文 stay", "Emoji 😀 and 中文 stay"),
        ("plain GSM text @£$", "plain GSM text @£$"),
    ])
    func replaces(_ input: String, _ expected: String) {
        let output = SmartCharacterNormalizer.normalize(input)
        #expect(output.unicodeScalars.elementsEqual(expected.unicodeScalars))
        #expect(SmartCharacterNormalizer.normalize(output).unicodeScalars.elementsEqual(output.unicodeScalars))
    }

    @Test func normalizationCanTurnUCS2IntoGSM() {
        let text = "Don\u{2019}t miss our \u{201C}big\u{201D} sale \u{2014} today\u{2026}"
        #expect(SegmentCounter.count(text).encoding == .ucs2)
        #expect(SegmentCounter.count(SmartCharacterNormalizer.normalize(text)).encoding == .gsm7)
    }

    @Test func zeroWidthJoinerInEmojiIsKept() {
        // U+200D (ZWJ) is not in the removal list: emoji sequences survive.
        let family = "👨‍👩‍👧"
        #expect(SmartCharacterNormalizer.normalize(family) == family)
    }
}
