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

    /// Scans `input`, writing digit values (0...9) to `out`.
    static func scan(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>, capacity: Int) -> Outcome {
        let n = input.count
        var i = 0
        var sawNonWhitespace = false
        // Leading junk.
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
        var plus = false
        while i < n {
            let (c, len) = decode(input, i)
            guard isPlus(c) else { break }
            plus = true
            i += len
        }
        var count = 0
        var pendingPunctuation = false
        var innerPunctuation = false
        while i < n {
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
            if isPunctuation(c) {
                pendingPunctuation = true
                i &+= len
                continue
            }
            if isExtension(input, from: i) || isTrailingJunk(input, from: i) { break }
            return .failure(.notANumber)
        }
        // _is_viable_phone_number: two bare digits, or at least three digits.
        if count < 2 || (count == 2 && (plus || innerPunctuation)) { return .failure(.notANumber) }
        return .success(count: count, plus: plus)
    }

    /// Whether the rest of the input only contains characters libphonenumber strips from the end of a number.
    static func isTrailingJunk(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        var i = start
        while i < input.count {
            let (c, len) = decode(input, i)
            if isASCIILetter(c) || c == 0x23 || digitValue(c) != nil || isPlus(c) { return false }
            i += len
        }
        return true
    }

    /// Whether the input from `start` is an extension: `[ ,]*` `;`? keyword `[:.=]`? `[ ,-]*` 1-20 digits `#`? junk.
    static func isExtension(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        let n = input.count
        var i = start
        while i < n, input[i] == 0x20 || input[i] == 0x2C || input[i] == 0x09 { i += 1 }
        if i < n, input[i] == 0x3B { i += 1 }  // ";ext="
        var matched = false
        for keyword in ["extension", "extn", "ext", "x", "#"] {
            let k = Array(keyword.utf8)
            if i + k.count <= n, (0..<k.count).allSatisfy({ input[i + $0] | (k[$0] == 0x23 ? 0 : 0x20) == k[$0] }) {
                i += k.count
                matched = true
                break
            }
        }
        guard matched else { return false }
        if i < n, input[i] == 0x3A || input[i] == 0x2E || input[i] == 0x3D { i += 1 }
        while i < n, input[i] == 0x20 || input[i] == 0x2C || input[i] == 0x2D || input[i] == 0x09 { i += 1 }
        var digits = 0
        while i < n {
            let (c, len) = decode(input, i)
            guard digitValue(c) != nil else { break }
            digits += 1
            i += len
        }
        guard (1...20).contains(digits) else { return false }
        if i < n, input[i] == 0x23 { i += 1 }
        return isTrailingJunk(input, from: i)
    }
}
