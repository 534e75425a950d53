/// Extracts the digits of a phone number from raw UTF-8 input, without regular expressions.
///
/// This is a strict version of libphonenumber's `_extract_possible_number` + `_is_viable_phone_number` +
/// `_maybe_strip_extension` + `normalize_digits_only`:
/// - leading characters before the first digit or `+` are skipped, except letters (only `tel:` is allowed);
/// - a run of `+` / `＋` may start the number;
/// - between digits, libphonenumber's punctuation is allowed: space, `-`, `.`, `/`, `(`, `)`, `[`, `]`, `~`, `*`,
///   and their Unicode variants (dashes, full-width forms, NBSP, ideographic space, ...);
/// - an extension (`x123`, `ext 123`, `ext. 123`, `extn 123`, `extension 123`, `#123`, `;ext=123`) ends the number and
///   is ignored;
/// - trailing characters that are neither letters, digits nor `#` are ignored;
/// - anything else (letters, vanity numbers, tabs or other symbols inside the number) is `notANumber`.
enum InputScanner {
    enum Outcome {
        case success(count: Int, plus: Bool)
        case failure(PhoneNumberError.Code)
    }

    @inline(__always)
    static func decode(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let b0 = p[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        let n = p.count
        if b0 & 0xE0 == 0xC0, i + 1 < n {
            return (UInt32(b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2)
        }
        if b0 & 0xF0 == 0xE0, i + 2 < n {
            return (UInt32(b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
        }
        if b0 & 0xF8 == 0xF0, i + 3 < n {
            return (UInt32(b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                | UInt32(p[i + 3] & 0x3F), 4)
        }
        return (0xFFFD, 1)
    }

    /// The decimal value of a digit in ASCII, full-width, Arabic-Indic, Extended Arabic-Indic, Devanagari or Bengali.
    @inline(__always)
    static func digitValue(_ c: UInt32) -> UInt8? {
        if c &- 0x30 < 10 { return UInt8(c - 0x30) }
        if c < 0x660 { return nil }
        for base: UInt32 in [0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6] where c &- base < 10 {
            return UInt8(c - base)
        }
        return nil
    }

    @inline(__always)
    static func isPlus(_ c: UInt32) -> Bool { c == 0x2B || c == 0xFF0B }

    /// libphonenumber's VALID_PUNCTUATION (minus the letter `x`, handled as an extension marker) plus `*`.
    @inline(__always)
    static func isPunctuation(_ c: UInt32) -> Bool {
        switch c {
        case 0x20, 0x2D, 0x2E, 0x28, 0x29, 0x2F, 0x5B, 0x5D, 0x7E, 0x2A: return true
        case 0x2010...0x2015, 0x2212, 0x30FC, 0xFF0D...0xFF0F, 0xA0, 0xAD, 0x200B, 0x2060, 0x3000,
             0xFF08, 0xFF09, 0xFF3B, 0xFF3D, 0x2053, 0x223C, 0xFF5E:
            return true
        default: return false
        }
    }

    @inline(__always)
    static func isASCIILetter(_ c: UInt32) -> Bool { (c | 0x20) &- 0x61 < 26 }

    static func isWhitespace(_ c: UInt32) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C || c == 0xA0 || c == 0x3000
    }

    /// Characters libphonenumber strips from the end of a number: anything but letters, digits and `#`
    /// (approximation of Python's `(?:_|[^#\w])+$` for non-ASCII input: punctuation and spaces are stripped).
    @inline(__always)
    static func isUnwantedEnd(_ c: UInt32) -> Bool {
        if c < 0x80 {
            return !((c | 0x20) &- 0x61 < 26 || c &- 0x30 < 10 || c == 0x23) || c == 0x5F
        }
        if digitValue(c) != nil { return false }
        return isPunctuation(c) || isPlus(c) || isWhitespace(c) || (0x2000...0x206F).contains(c) || c == 0xFFFD
            || (0x3000...0x303F).contains(c) || (0xFF01...0xFF0F).contains(c)
    }

    /// Scans `input`, writing digit values (0...9) to `out`.
    static func scan(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>, capacity: Int) -> Outcome {
        let n = input.count
        var i = 0
        var sawNonWhitespace = false
        var slowPath = false
        // Leading junk (`_extract_possible_number`), but letters other than "tel:" are rejected.
        while i < n {
            let (c, len) = decode(input, i)
            if c &- 0x30 < 10 || isPlus(c) || (c >= 0x660 && digitValue(c) != nil) { break }
            if isASCIILetter(c) {
                if i + 4 <= n, input[i] | 0x20 == 0x74, input[i + 1] | 0x20 == 0x65, input[i + 2] | 0x20 == 0x6C,
                   input[i + 3] == 0x3A
                {
                    i += 4
                    sawNonWhitespace = true
                    continue
                }
                return .failure(.notANumber)
            }
            if !isWhitespace(c) { sawNonWhitespace = true }
            i += len
        }
        if i == n { return .failure(sawNonWhitespace ? .notANumber : .empty) }
        let lo = i
        // Trailing junk; note whether the input may contain an extension or a second number.
        var hi = n
        var k = lo
        while k < n {
            let b = input[k]
            if b >= 0x80 || b == 0x2C || b == 0x3B || b == 0x23 || b == 0x7E || b == 0x2F || b == 0x5C
                || isASCIILetter(UInt32(b))
            {
                slowPath = true
                break
            }
            k &+= 1
        }
        if slowPath {
            hi = extractedEnd(input, lo)
        } else {
            while hi > lo, isUnwantedEnd(UInt32(input[hi - 1])) { hi -= 1 }
        }
        i = lo
        var plus = false
        while i < hi {
            let (c, len) = decode(input, i)
            guard isPlus(c) else { break }
            plus = true
            i += len
        }
        var count = 0
        var pendingPunctuation = false
        var innerPunctuation = false
        while i < hi {
            let b = input[i]
            if b &- 0x30 < 10 {  // ASCII digit fast path
                if count == capacity { return .failure(.tooLong) }
                out[count] = b &- 0x30
                count &+= 1
                if pendingPunctuation { innerPunctuation = true }
                i &+= 1
                continue
            }
            let (c, len) = decode(input, i)
            if let v = digitValue(c) {
                if count == capacity { return .failure(.tooLong) }
                out[count] = v
                count &+= 1
                if pendingPunctuation { innerPunctuation = true }
                i &+= len
                continue
            }
            if isPunctuation(c) || c == 0x78 || c == 0x58 {  // libphonenumber's punctuation includes 'x'
                pendingPunctuation = true
                i &+= len
                continue
            }
            return .failure(.notANumber)
        }
        // _is_viable_phone_number: two bare digits, or at least three digits.
        if count < 2 || (count == 2 && (plus || innerPunctuation)) { return .failure(.notANumber) }
        return .success(count: count, plus: plus)
    }

    /// Slow path: end of the number proper, after removing trailing junk, a second number ("/ x...")
    /// and an extension (libphonenumber's `_EXTN_PATTERNS_FOR_PARSING`, matched up to the end).
    static func extractedEnd(_ input: UnsafeBufferPointer<UInt8>, _ lo: Int) -> Int {
        var scalars: [UInt32] = []
        var offsets: [Int] = []
        var i = lo
        while i < input.count {
            let (c, len) = decode(input, i)
            scalars.append(c)
            offsets.append(i)
            i += len
        }
        offsets.append(input.count)
        var end = scalars.count
        while end > 0, isUnwantedEnd(scalars[end - 1]) { end -= 1 }
        // _SECOND_NUMBER_START: [\\/] *x
        var j = 0
        while j < end {
            if scalars[j] == 0x2F || scalars[j] == 0x5C {
                var k = j + 1
                while k < end, scalars[k] == 0x20 { k += 1 }
                if k < end, scalars[k] == 0x78 {
                    end = j
                    break
                }
            }
            j += 1
        }
        // The leftmost extension (Python's `search`) is stripped if the part before it is viable.
        let sc = scalars[0..<end]
        // An extension ends with a digit or '#'.
        guard end > 0, digitValue(sc[end - 1]) != nil || sc[end - 1] == 0x23 || sc[end - 1] == 0xFF03 else {
            return offsets[end]
        }
        for start in 0..<end where mayStartExtension(lower(sc[start])) && extensionMatches(sc, start) {
            let (digits, clean) = viability(sc[0..<start])
            if clean && digits >= 3 { return offsets[start] }
            // Two bare digits are viable on their own; the whole input must then be viable without the extension.
            if clean && digits == 2 && start == 2 && viability(sc).clean { return offsets[start] }
            break
        }
        return offsets[end]
    }

    /// The digit count of `s` and whether it only contains leading pluses, digits and punctuation.
    static func viability(_ s: ArraySlice<UInt32>) -> (digits: Int, clean: Bool) {
        var digits = 0
        var k = s.startIndex
        while k < s.endIndex, isPlus(s[k]) { k += 1 }
        while k < s.endIndex {
            let c = s[k]
            if digitValue(c) != nil {
                digits += 1
            } else if !(isPunctuation(c) || c == 0x78 || c == 0x58) {
                return (digits, false)
            }
            k += 1
        }
        return (digits, true)
    }

    @inline(__always)
    static func lower(_ c: UInt32) -> UInt32 {
        if c &- 0x41 < 26 || c &- 0xFF21 < 26 || c &- 0x410 < 32 { return c + 0x20 }
        if c == 0xD3 { return 0xF3 }
        return c
    }

    /// Whether an extension can start with this (lower-cased) character.
    @inline(__always)
    static func mayStartExtension(_ c: UInt32) -> Bool {
        switch c {
        case 0x20, 0xA0, 0x09, 0x2C, 0x3B, 0x2D, 0x65, 0x78, 0x23, 0x7E, 0x69, 0x61, 0xFF45, 0xFF58, 0xFF03, 0xFF5E,
             0xFF49, 0x434:
            return true
        default:
            return false
        }
    }

    static let longKeywords: [[UInt32]] = [
        "extension", "extensión", "extensin", "extensi", "extn", "ext", "xtension", "xtensión", "xtensin", "xtensi",
        "xtn", "xt", "ｅｘｔｎ", "ｅｘｔ", "ｘｔｎ", "ｘｔ", "доб", "anexo",
    ].map { $0.unicodeScalars.map(\.value) }
    static let shortKeywords: [[UInt32]] = ["x", "ｘ", "#", "＃", "~", "～", "int", "ｉｎｔ"].map { $0.unicodeScalars.map(\.value) }
    static let rfcKeyword: [UInt32] = Array(";ext=".unicodeScalars.map(\.value))

    /// Whether `s[start...]` is an extension per libphonenumber's `_EXTN_PATTERNS_FOR_PARSING` (case-insensitive).
    static func extensionMatches(_ s: ArraySlice<UInt32>, _ start: Int) -> Bool {
        let end = s.endIndex
        func at(_ p: Int) -> UInt32 { p < end ? lower(s[p]) : 0 }
        func skip(_ p: Int, _ set: (UInt32) -> Bool) -> Int {
            var p = p
            while p < end, set(s[p]) { p += 1 }
            return p
        }
        func literal(_ p: Int, _ text: [UInt32]) -> Int? {
            var p = p
            for u in text {
                guard at(p) == u else { return nil }
                p += 1
            }
            return p
        }
        /// `[:\.．]?` separators, `min...max` digits, `#?` (or a required `#`), end.
        func tail(_ p: Int, _ maxDigits: Int, label: Bool = true, separators: Bool = true, hashRequired: Bool = false) -> Bool {
            var p = p
            if label, p < end, s[p] == 0x3A || s[p] == 0x2E || s[p] == 0xFF0E { p += 1 }
            if separators { p = skip(p) { $0 == 0x20 || $0 == 0xA0 || $0 == 0x09 || $0 == 0x2C || $0 == 0x2D } }
            let d = skip(p) { digitValue($0) != nil }
            guard d - p >= 1, d - p <= maxDigits else { return false }
            var q = d
            if q < end, s[q] == 0x23 || s[q] == 0xFF03 { q += 1 } else if hashRequired { return false }
            return q == end
        }
        let blank: (UInt32) -> Bool = { $0 == 0x20 || $0 == 0xA0 || $0 == 0x09 }
        // ;ext=NNN
        if let p = literal(start, rfcKeyword), tail(p, 20, label: false, separators: false) { return true }
        // [ \t,]* (e?xt(ensi(ó?|ó))?n? | ｅ?ｘｔｎ? | доб | anexo) ...
        let afterBlankComma = skip(start) { blank($0) || $0 == 0x2C }
        for keyword in longKeywords {
            if let p = literal(afterBlankComma, keyword), tail(p, 20) { return true }
        }
        // [ \t,]* ([xｘ#＃~～] | int | ｉｎｔ) ...
        for keyword in shortKeywords {
            if let p = literal(afterBlankComma, keyword), tail(p, 9) { return true }
        }
        // [- ]+NNN#
        let dashes = skip(start) { $0 == 0x2D || $0 == 0x20 }
        if dashes > start, tail(dashes, 6, label: false, separators: false, hashRequired: true) { return true }
        // [ \t]*(,,|;) ...   and   [ \t]*,+ ...
        let afterBlank = skip(start, blank)
        if let p = literal(afterBlank, [0x2C, 0x2C]) ?? literal(afterBlank, [0x3B]), tail(p, 15) { return true }
        let commas = skip(afterBlank) { $0 == 0x2C }
        if commas > afterBlank, tail(commas, 9) { return true }
        return false
    }
}
