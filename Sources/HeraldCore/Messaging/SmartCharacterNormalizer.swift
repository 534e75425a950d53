/// "Smart character" normalization to ASCII (DOMAIN.md §1.6, Twilio Smart Encoding list),
/// applied before the encoding decision when a campaign's `normalizeUnicode` is on, so that
/// look-alike punctuation does not force a whole message into UCS-2.
///
/// Every replacement is plain ASCII that is itself never replaced, so `normalize` is idempotent:
/// `normalize(normalize(s)) == normalize(s)`. Full-width U+FF40 (grave accent) goes straight to
/// `'` because the backtick it stands for is itself replaced by `'`.
public enum SmartCharacterNormalizer {
    /// What a scalar becomes: `nil` = unchanged, `""` = removed.
    @inline(__always)
    static func replacement(for value: UInt32) -> Unicode.Scalar?? {
        switch value {
        case 0x201C, 0x201D, 0x201E, 0x201F, 0x00AB, 0x00BB, 0xFF02:
            return .some("\"")
        case 0x2018, 0x2019, 0x201B, 0x02BC, 0x00B4, 0x0060, 0xFF40:
            return .some("'")
        case 0x2013, 0x2014, 0x2010, 0x2015, 0xFF0D, 0x2022:
            return .some("-")
        case 0x00A0, 0x2000...0x200A, 0x202F, 0x205F, 0x3000:
            return .some(" ")
        case 0x200B, 0x2060, 0xFEFF:
            return .some(nil)
        case 0xFF01...0xFF5E:
            return .some(Unicode.Scalar(value - 0xFEE0)!)
        default:
            return nil
        }
    }

    /// Multi-character replacements (ellipsis and vulgar fractions).
    @inline(__always)
    static func expansion(for value: UInt32) -> String? {
        switch value {
        case 0x2026: "..."
        case 0x00BC: "1/4"
        case 0x00BD: "1/2"
        case 0x00BE: "3/4"
        default: nil
        }
    }

    /// Whether `normalize` would change the text.
    public static func needsNormalization(_ text: String) -> Bool {
        // Fast path: plain ASCII other than the backtick never changes.
        var isPlainASCII = true
        for byte in text.utf8 where byte >= 0x80 || byte == 0x60 {
            isPlainASCII = false
            break
        }
        if isPlainASCII { return false }
        for scalar in text.unicodeScalars where scalar.value >= 0x60 {
            if replacement(for: scalar.value) != nil || expansion(for: scalar.value) != nil { return true }
        }
        return false
    }

    /// Replaces smart quotes, dashes, ellipses, odd spaces, bullets, fractions and full-width
    /// ASCII by their ASCII equivalents and removes zero-width characters (DOMAIN.md §1.6).
    /// Emoji, CJK and other scripts are left as they are. Returns the input itself when nothing
    /// needs replacing.
    public static func normalize(_ text: String) -> String {
        guard needsNormalization(text) else { return text }
        var output = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if let expanded = expansion(for: scalar.value) {
                output.append(contentsOf: expanded.unicodeScalars)
            } else if let replaced = replacement(for: scalar.value) {
                if let replaced { output.append(replaced) }
            } else {
                output.append(scalar)
            }
        }
        return String(output)
    }
}
