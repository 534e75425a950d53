import PropertyBased
import Testing
@testable import HeraldCore

/// Building blocks for random message texts: every GSM-7 character, extension characters,
/// non-GSM Latin, smart punctuation, emoji clusters (skin tones, ZWJ, flags, keycaps), CJK and
/// combining marks, plus one oversized cluster.
private let segmentAtoms: [String] = {
    var atoms = GSM7Alphabet.basicTable.compactMap { $0.map { String(Character($0)) } }
    atoms += ["\u{0C}", "^", "{", "}", "\\", "[", "~", "]", "|", "€"]
    atoms += ["hello ", "Sale today! ", "\r\n", "ç", "á", "`", "\u{1B}", "’", "“", "”", "—", "…", "\u{00A0}"]
    atoms += ["😀", "👍🏽", "👋🏿", "👨‍👩‍👧‍👦", "👩🏾‍💻", "🏳️‍🌈", "🇺🇸", "🇯🇵", "1️⃣", "#️⃣", "❤️"]
    atoms += ["中", "文", "日本語", "한국어", "\u{0301}", "e\u{0301}", "Привет"]
    atoms += [Array(repeating: "👨", count: 30).joined(separator: "\u{200D}")]
    return atoms
}()

/// Mostly-GSM texts (so that GSM-7 multi-part splitting is exercised too) and free mixes.
private let gsmHeavyAtoms: [String] = Array(segmentAtoms.prefix(137))

private func textGenerator(atoms: [String], maxAtoms: Int) -> Generator<String, some SendableSequenceType> {
    Gen.int(in: 0...(atoms.count - 1)).array(of: 0...maxAtoms).map { indices in
        indices.map { atoms[$0] }.joined()
    }
}

private func septets(_ text: String) -> Int {
    text.unicodeScalars.reduce(0) { $0 + GSM7Alphabet.septets(for: $1) }
}

private func size(_ text: String, _ encoding: MessageEncoding) -> Int {
    encoding == .gsm7 ? septets(text) : text.utf16.count
}

/// Scalar offsets at which `text` may be cut in UCS-2: grapheme boundaries, and any scalar
/// boundary inside a cluster longer than 67 units.
private func allowedUCS2Cuts(_ text: String) -> Set<Int> {
    var cuts: Set<Int> = [0]
    var offset = 0
    for character in text {
        let scalars = character.unicodeScalars.count
        if character.utf16.count > 67 {
            for inner in 1..<scalars { cuts.insert(offset + inner) }
        }
        offset += scalars
        cuts.insert(offset)
    }
    return cuts
}

@Suite("Segment properties", .timeLimit(.minutes(10)))
struct SegmentPropertyTests {
    static let generators = [("mixed", 250), ("gsm", 400)]

    func checkProperties(_ text: String) {
        let count = SegmentCounter.count(text)
        let split = MessageSplitter.split(text)
        // Fast count equals the splitter's number of parts, and the encodings agree.
        #expect(count.segments == split.parts.count)
        #expect(count.encoding == split.encoding)
        // Joined parts are the input, scalar for scalar.
        #expect(split.parts.joined().unicodeScalars.elementsEqual(text.unicodeScalars))
        // Length is septets (GSM-7) or UTF-16 units (UCS-2).
        #expect(count.length == size(text, count.encoding))
        // The encoding is GSM-7 exactly when every scalar is in base ∪ extension.
        #expect((count.encoding == .gsm7) == text.unicodeScalars.allSatisfy(GSM7Alphabet.contains))
        // No part exceeds its limit; single-part messages use the single limit.
        let limit = split.parts.count > 1 ? count.encoding.multipartSegmentLimit : count.encoding.singleSegmentLimit
        for part in split.parts {
            #expect(size(part, count.encoding) <= limit)
            #expect(!part.isEmpty)
        }
        guard split.parts.count > 1 else { return }
        switch count.encoding {
        case .gsm7:
            // Greedy: the next part's first character would not have fitted.
            for (part, next) in zip(split.parts, split.parts.dropFirst()) {
                #expect(septets(part) + GSM7Alphabet.septets(for: next.unicodeScalars.first!) > 153)
            }
        case .ucs2:
            // Cuts fall on grapheme boundaries unless inside an oversized cluster.
            let allowed = allowedUCS2Cuts(text)
            var offset = 0
            for part in split.parts.dropLast() {
                offset += part.unicodeScalars.count
                #expect(allowed.contains(offset), "cut at scalar \(offset)")
            }
        }
    }

    @Test func mixedTexts() async {
        await propertyCheck(count: 400, input: textGenerator(atoms: segmentAtoms, maxAtoms: 250)) { text in
            checkProperties(text)
        }
    }

    @Test func gsmHeavyTexts() async {
        await propertyCheck(count: 400, input: textGenerator(atoms: gsmHeavyAtoms, maxAtoms: 500)) { text in
            checkProperties(text)
        }
    }

    /// The fast UCS-2 packer (scalar walk, grapheme breaking only at cuts) equals the plain
    /// Character-by-Character packer.
    @Test func fastUCS2PackingMatchesCharacterPacking() async {
        await propertyCheck(count: 400, input: textGenerator(atoms: segmentAtoms, maxAtoms: 250)) { text in
            var fast: [Range<String.Index>] = []
            var reference: [Range<String.Index>] = []
            MessageSplitter.packUCS2(text) { fast.append($0..<$1) }
            MessageSplitter.packUCS2ByCharacters(text) { reference.append($0..<$1) }
            #expect(fast == reference)
        }
    }

    @Test func normalizationIsIdempotentAndRemovesEveryTableCharacter() async {
        let smart: [String] = (0x2000...0x206F).compactMap { Unicode.Scalar($0).map { String(Character($0)) } }
            + (0xFF00...0xFF65).compactMap { Unicode.Scalar($0).map { String(Character($0)) } }
            + ["\u{00AB}", "\u{00BB}", "\u{00B4}", "\u{02BC}", "\u{00BC}", "\u{00BD}", "\u{00BE}", "\u{3000}", "\u{FEFF}", "`"]
        let atoms = segmentAtoms + smart
        await propertyCheck(count: 400, input: textGenerator(atoms: atoms, maxAtoms: 120)) { text in
            let once = SmartCharacterNormalizer.normalize(text)
            #expect(SmartCharacterNormalizer.normalize(once).unicodeScalars.elementsEqual(once.unicodeScalars))
            #expect(!SmartCharacterNormalizer.needsNormalization(once))
        }
    }
}
