/// The result of counting a message's segments.
public struct SegmentCount: Sendable, Hashable, Codable {
    /// GSM-7 when every character is in the GSM 03.38 alphabet or extension, else UCS-2.
    public var encoding: MessageEncoding
    /// Number of SMS parts; 0 for the empty message.
    public var segments: Int
    /// Length in the encoding's unit: septets for GSM-7 (extension characters count 2),
    /// UTF-16 code units for UCS-2 (DOMAIN.md §1.5, "counting rule for a length meter").
    public var length: Int

    public init(encoding: MessageEncoding, segments: Int, length: Int) {
        self.encoding = encoding
        self.segments = segments
        self.length = length
    }
}

/// Fast segment counting for SMS bodies (DOMAIN.md §1.3–1.5).
///
/// Rules:
/// - Encoding: GSM-7 if every scalar is in the default alphabet or the extension table
///   (3GPP TS 23.038 §6.2.1), else the whole message is UCS-2.
/// - GSM-7: ≤ 160 septets is one segment; otherwise parts of ≤ 153 septets, and an escape
///   sequence (ESC + code) is never split between parts (3GPP TS 23.040 §9.2.3.24.1), so a part
///   may end at 152.
/// - UCS-2: ≤ 70 UTF-16 code units is one segment; otherwise parts of ≤ 67 units, never splitting
///   a surrogate pair (TS 23.040 §9.2.3.24.1) nor a grapheme cluster (as Twilio's segment
///   calculator does); a single cluster longer than 67 units is split at scalar boundaries.
///
/// The count is always equal to `MessageSplitter.split(text).parts.count`. It works on the UTF-8
/// bytes with a lookup table and only falls back to grapheme breaking for multi-part UCS-2.
public enum SegmentCounter {
    /// Counts the segments `text` needs when sent as SMS. The empty text has 0 segments.
    public static func count(_ text: String) -> SegmentCount {
        var text = text
        if let result = text.utf8.withContiguousStorageIfAvailable({ scan($0) }) {
            return finish(result, text: text)
        }
        text.makeContiguousUTF8()
        return finish(text.utf8.withContiguousStorageIfAvailable({ scan($0) })!, text: text)
    }

    struct ScanResult {
        var isGSM = true
        var septets = 0
        var gsmParts = 1
        var partFill = 0
        var utf16Units = 0
    }

    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> ScanResult {
        GSM7Alphabet.lowCostTable.withUnsafeBufferPointer { scan(bytes, table: $0) }
    }

    /// `table` is `GSM7Alphabet.lowCostTable`, passed in so the hot loop reads a plain buffer
    /// (no lazy-global check or bounds check per byte).
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt8>) -> ScanResult {
        var result = ScanResult()
        let euroSign: UInt32 = 0x20AC
        let count = bytes.count
        var index = 0
        let limit = 153  // MessageEncoding.gsm7.multipartSegmentLimit
        // GSM phase: decode scalars, cost them, pack greedily into 153-septet parts.
        while index < count {
            let b0 = bytes[index]
            var cost: Int
            if b0 < 0x80 {
                cost = Int(table[Int(b0)])
                result.utf16Units &+= 1
                index &+= 1
            } else if b0 < 0xE0 {
                let value = (UInt32(b0 & 0x1F) << 6) | UInt32(bytes[index &+ 1] & 0x3F)
                cost = value < 0x400 ? Int(table[Int(value)]) : 0
                result.utf16Units &+= 1
                index &+= 2
            } else if b0 < 0xF0 {
                let value = (UInt32(b0 & 0x0F) << 12) | (UInt32(bytes[index &+ 1] & 0x3F) << 6)
                    | UInt32(bytes[index &+ 2] & 0x3F)
                cost = value == euroSign ? 2 : 0
                result.utf16Units &+= 1
                index &+= 3
            } else {
                cost = 0
                result.utf16Units &+= 2
                index &+= 4
            }
            if cost == 0 {
                result.isGSM = false
                break
            }
            result.septets &+= cost
            if result.partFill &+ cost > limit {
                result.gsmParts &+= 1
                result.partFill = cost
            } else {
                result.partFill &+= cost
            }
        }
        guard !result.isGSM else { return result }
        // UCS-2 phase: only the UTF-16 length is needed.
        while index < count {
            let b0 = bytes[index]
            if b0 < 0x80 {
                index &+= 1
                result.utf16Units &+= 1
            } else if b0 < 0xE0 {
                index &+= 2
                result.utf16Units &+= 1
            } else if b0 < 0xF0 {
                index &+= 3
                result.utf16Units &+= 1
            } else {
                index &+= 4
                result.utf16Units &+= 2
            }
        }
        return result
    }

    static func finish(_ scan: ScanResult, text: String) -> SegmentCount {
        if scan.isGSM {
            let segments = scan.septets == 0 ? 0 : (scan.septets <= MessageEncoding.gsm7.singleSegmentLimit ? 1 : scan.gsmParts)
            return SegmentCount(encoding: .gsm7, segments: segments, length: scan.septets)
        }
        let units = scan.utf16Units
        if units <= MessageEncoding.ucs2.singleSegmentLimit {
            return SegmentCount(encoding: .ucs2, segments: 1, length: units)
        }
        var parts = 0
        MessageSplitter.packUCS2(text) { _, _ in parts += 1 }
        return SegmentCount(encoding: .ucs2, segments: parts, length: units)
    }

    /// The characters (grapheme clusters) that force the message into UCS-2, unique, in order
    /// of first appearance (DOMAIN.md §1.3). Empty when the text is GSM-7.
    public static func nonGsmCharacters(in text: String) -> [String] {
        var seen = Set<Character>()
        var result: [String] = []
        for character in text where !character.unicodeScalars.allSatisfy(GSM7Alphabet.contains) {
            if seen.insert(character).inserted { result.append(String(character)) }
        }
        return result
    }
}
