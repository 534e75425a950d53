/// Parses, validates and classifies phone numbers using libphonenumber's metadata compiled to DFAs
/// (see scripts/phonenumbers/generate.py). No regular expressions are evaluated at run time.
///
/// The parsing algorithm mirrors libphonenumber's `parse` followed by `is_valid_number`:
/// international prefix / `+` / country-code detection, national prefix (trunk code) stripping including
/// the transform rules of AR, BR, JP, the NANP islands, ..., then type resolution.
/// Differences from libphonenumber (all stricter) are listed in scripts/phonenumbers/README.md.
public struct PhoneNumberKit: Sendable {
    let store: MetadataStore

    /// The shared instance. The bundled data is loaded once, lazily and thread-safely, on first use.
    public static let shared: PhoneNumberKit = {
        do {
            return PhoneNumberKit(store: try MetadataStore.loadBundled())
        } catch {
            fatalError("PhoneNumbers: cannot load the bundled phonenumbers.bin resource: \(error)")
        }
    }()

    init(store: MetadataStore) {
        self.store = store
    }

    /// The version of the `phonenumbers` / libphonenumber metadata the bundled data was generated from.
    public var dataVersion: String { store.version }

    /// All supported ISO 3166-1 alpha-2 region codes, sorted.
    public var supportedRegions: [String] {
        store.entries.map(\.regionCode).filter { $0 != "001" }
    }

    /// Parses and validates `text`. `defaultRegion` ("US", "GB", ...) is used for national-format input and to
    /// recognise its international dialling prefix ("011" for US, "00" for GB).
    ///
    /// Accepted: digits in ASCII, full-width and Arabic-Indic scripts, a leading `+`, the punctuation libphonenumber
    /// accepts (spaces, `-`, `.`, `/`, brackets, ...), a leading `tel:`, trailing extensions in libphonenumber's
    /// grammar (`x123`, `ext. 123`, `extension 123`, `#123`, `~123`, `,123`, `;ext=123`, ...), which are stripped
    /// and ignored. Rejected: any other letters (including vanity numbers such as `1-800-FLOWERS`).
    public func parse(_ text: String, defaultRegion: String) throws(PhoneNumberError) -> PhoneNumber {
        let region = regionIndex(defaultRegion)
        let result = text.utf8.withContiguousStorageIfAvailable { parseBuffer($0, region: region, regionName: defaultRegion) }
            ?? Array(text.utf8).withUnsafeBufferPointer { parseBuffer($0, region: region, regionName: defaultRegion) }
        return try result.get()
    }

    /// Parses and validates UTF-8 encoded bytes (the fast path used by the CSV importer); see `parse(_:defaultRegion:)`.
    @inlinable
    public func parse(_ utf8: some Collection<UInt8>, defaultRegion: String) throws(PhoneNumberError) -> PhoneNumber {
        let result = utf8.withContiguousStorageIfAvailable { parseUTF8($0, defaultRegion: defaultRegion) }
            ?? Array(utf8).withUnsafeBufferPointer { parseUTF8($0, defaultRegion: defaultRegion) }
        return try result.get()
    }

    @usableFromInline
    func parseUTF8(_ buffer: UnsafeBufferPointer<UInt8>, defaultRegion: String) -> Result<PhoneNumber, PhoneNumberError> {
        parseBuffer(buffer, region: regionIndex(defaultRegion), regionName: defaultRegion)
    }

    /// Whether `text` parses to a valid number; see `parse(_:defaultRegion:)`.
    public func isValid(_ text: String, defaultRegion: String) -> Bool {
        (try? parse(text, defaultRegion: defaultRegion)) != nil
    }

    /// The possible IANA time zones of a number, from libphonenumber's time zone map (longest prefix match on the
    /// E.164 digits). Numbers of a non-geographic type (toll-free, premium rate, mobile in most countries, ...) get
    /// the country-level list. Returns `[]` when nothing is known (libphonenumber's `Etc/Unknown`).
    public func timeZones(for number: PhoneNumber) -> [String] {
        let cc = number.countryCode
        let geographical: Bool
        switch number.type {
        case .unknown:
            return []
        case .fixedLine, .fixedLineOrMobile:
            geographical = true
        case .mobile:
            geographical = store.geoMobileCountries.contains(cc)
        default:
            geographical = false
        }
        var digits = Array(String(cc).utf8)
        if geographical { digits.append(contentsOf: number.nationalNumber.utf8) }
        var candidates: [Int] = []
        if geographical {
            candidates = Array((1...min(9, digits.count)).reversed())
        } else {
            candidates = digits.count == 3 ? [3, 2] : [digits.count]
        }
        for length in candidates {
            var v: UInt64 = 0
            for c in digits[0..<length] { v = v &* 10 &+ UInt64(c &- 48) }
            if let list = store.timeZonePrefixes[v << 4 | UInt64(length)] {
                let zones = store.timeZoneLists[list]
                return zones == ["Etc/Unknown"] ? [] : zones
            }
        }
        return []
    }

    /// Whether `code` is a supported ISO 3166-1 alpha-2 region code (case-insensitive).
    public func isValidRegion(_ code: String) -> Bool {
        regionIndex(code) >= 0
    }

    /// The country calling code of a region (`"US"` → 1, `"GB"` → 44), or nil for an unknown region.
    public func countryCode(forRegion region: String) -> Int? {
        let i = regionIndex(region)
        return i >= 0 ? store.entries[i].countryCode : nil
    }

    /// The regions sharing a country calling code, main region first (`1` → `["US", "AG", ...]`);
    /// `["001"]` for non-geographic codes such as 800; `[]` if unknown.
    public func regionCodes(forCountryCode code: Int) -> [String] {
        guard (0..<1000).contains(code) else { return [] }
        return store.countryCodeTable[code].map { store.entries[$0].regionCode }
    }

    // MARK: - Implementation

    @inline(__always)
    func regionIndex(_ code: String) -> Int {
        var it = code.utf8.makeIterator()
        guard let a = it.next(), let b = it.next(), it.next() == nil else { return -1 }
        let x = a & 0xDF, y = b & 0xDF  // ASCII upper-case
        guard (65...90).contains(x), (65...90).contains(y) else { return -1 }
        return Int(store.regionTable[Int(x - 65) * 26 + Int(y - 65)])
    }

    /// Capacity of the digit buffer; longer inputs are rejected as too long.
    static let maxDigits = 48
    static let scratchSize = 96
    static let minNSN = 2
    static let maxNSN = 17

    enum LengthResult { case possible, localOnly, tooShort, tooLong, invalidLength }

    /// A view on digits (values 0...9).
    struct DigitSpan {
        var base: UnsafePointer<UInt8>
        var count: Int
    }

    func parseBuffer(_ input: UnsafeBufferPointer<UInt8>, region: Int, regionName: String) -> Result<PhoneNumber, PhoneNumberError> {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxDigits + 2 * Self.scratchSize) { tmp in
            let digits = tmp.baseAddress!
            let scratchA = digits + Self.maxDigits
            let scratchB = scratchA + Self.scratchSize
            let scan = InputScanner.scan(input, into: digits, capacity: Self.maxDigits)
            switch scan {
            case .failure(let code):
                return .failure(makeError(code, input, entry: region, regionName: regionName))
            case .success(let count, let plus):
                return parseDigits(DigitSpan(base: UnsafePointer(digits), count: count), plus: plus, region: region,
                                   scratchA: scratchA, scratchB: scratchB, input: input, regionName: regionName)
            }
        }
    }

    private func parseDigits(_ all: DigitSpan, plus: Bool, region: Int, scratchA: UnsafeMutablePointer<UInt8>,
                             scratchB: UnsafeMutablePointer<UInt8>, input: UnsafeBufferPointer<UInt8>,
                             regionName: String) -> Result<PhoneNumber, PhoneNumberError> {
        let store = self.store
        var countryCode = 0
        var national = all
        var metaEntry = region
        var extracted = plus
        if plus {
            if all.count <= Self.minNSN {
                return .failure(makeError(.tooShort, input, entry: -1, regionName: regionName))
            }
            let (cc, len) = extractCountryCode(all)
            if cc != 0 {
                countryCode = cc
                national = DigitSpan(base: all.base + len, count: all.count - len)
            } else {
                // libphonenumber retries as if there were no '+' (e.g. "+011 44 ..." from the US).
                guard region >= 0 else { return .failure(makeError(.invalidCountryCode, input, entry: -1, regionName: regionName)) }
                switch extractWithoutPlus(all, entry: region, scratch: scratchA) {
                case .failed(let code):
                    return .failure(makeError(code, input, entry: -1, regionName: regionName))
                case .national:
                    return .failure(makeError(.invalidCountryCode, input, entry: -1, regionName: regionName))
                case .found(let cc2, let rest):
                    countryCode = cc2
                    national = rest
                }
            }
        } else {
            guard region >= 0 else { return .failure(makeError(.unknownRegion, input, entry: -1, regionName: regionName)) }
            switch extractWithoutPlus(all, entry: region, scratch: scratchA) {
            case .failed(let code):
                return .failure(makeError(code, input, entry: -1, regionName: regionName))
            case .found(let cc, let rest):
                countryCode = cc
                national = rest
                extracted = true
            case .national:
                countryCode = Int(store.hot[region].countryCode)
            }
        }
        if extracted {
            // A country calling code was extracted: use the metadata of its main region.
            metaEntry = Int(store.ccEntries[Int(store.ccStart[countryCode])])
        }
        if national.count < Self.minNSN {
            return .failure(makeError(.tooShort, input, entry: metaEntry, regionName: regionName))
        }
        let stripped = stripNationalPrefix(national, metaEntry, out: scratchB)
        switch testLength(stripped.count, metaEntry) {
        case .tooShort, .localOnly, .invalidLength: break
        case .possible, .tooLong: national = stripped
        }
        if national.count < Self.minNSN {
            return .failure(makeError(.tooShort, input, entry: metaEntry, regionName: regionName))
        }
        if national.count > Self.maxNSN {
            return .failure(makeError(.tooLong, input, entry: metaEntry, regionName: regionName))
        }

        // Validation (is_valid_number): find the region, then the type.
        let first = Int(store.ccStart[countryCode])
        let last = Int(store.ccStart[countryCode + 1])
        var found = -1
        var type = PhoneNumberType.unknown
        if last - first == 1 {
            found = Int(store.ccEntries[first])
            type = numberType(national, found)
        } else {
            for k in first..<last {
                let idx = Int(store.ccEntries[k])
                let leading = store.hot[idx].leadingDigits
                if leading >= 0 {
                    if store.prefixMatch(leading, national.base, 0, national.count) {
                        found = idx
                        type = numberType(national, idx)
                        break
                    }
                } else {
                    let t = numberType(national, idx)
                    if t != .unknown {
                        found = idx
                        type = t
                        break
                    }
                }
            }
        }
        if found < 0 || type == .unknown {
            let main = Int(store.ccEntries[first])
            let code: PhoneNumberError.Code
            switch testLength(national.count, main) {
            case .tooShort: code = .tooShort
            case .tooLong: code = .tooLong
            default: code = .invalidNumber
            }
            return .failure(makeError(code, input, entry: main, regionName: regionName))
        }
        let nationalString = String(unsafeUninitializedCapacity: national.count) { buf in
            for i in 0..<national.count { buf[i] = national.base[i] &+ 48 }
            return national.count
        }
        return .success(PhoneNumber(countryCode: countryCode, nationalNumber: nationalString,
                                    regionCode: store.entries[found].regionCode, type: type))
    }

    /// `_extract_country_code`: the first 1-3 digit prefix that is a known country calling code.
    @inline(__always)
    func extractCountryCode(_ d: DigitSpan) -> (Int, Int) {
        if d.count == 0 || d.base[0] == 0 { return (0, 0) }
        var v = 0
        for i in 0..<min(3, d.count) {
            v = v &* 10 &+ Int(d.base[i])
            if store.ccStart[v] != store.ccStart[v + 1] { return (v, i + 1) }
        }
        return (0, 0)
    }

    private enum Extraction {
        case found(Int, DigitSpan)
        case national
        case failed(PhoneNumberError.Code)
    }

    /// `_maybe_extract_country_code` for input without '+': the default region's international prefix,
    /// or the default region's country code written without '+' ("1 202 555 0100" for US).
    private func extractWithoutPlus(_ d: DigitSpan, entry: Int, scratch: UnsafeMutablePointer<UInt8>) -> Extraction {
        let hot = store.hot[entry]
        let m = store.longestMatch(hot.internationalPrefix, d.base, 0, d.count)
        if m >= 0 && !(m < d.count && d.base[m] == 0) {
            let rest = DigitSpan(base: d.base + m, count: d.count - m)
            if rest.count <= Self.minNSN { return .failed(.tooShort) }
            let (cc, len) = extractCountryCode(rest)
            if cc == 0 { return .failed(.invalidCountryCode) }
            return .found(cc, DigitSpan(base: rest.base + len, count: rest.count - len))
        }
        // Does the number start with the default region's country code?
        let cc = Int(hot.countryCode)
        let ccLength = cc < 10 ? 1 : (cc < 100 ? 2 : 3)
        if d.count >= ccLength {
            var v = 0
            for i in 0..<ccLength { v = v &* 10 &+ Int(d.base[i]) }
            if v == cc && d.base[0] != 0 {
                let rest = DigitSpan(base: d.base + ccLength, count: d.count - ccLength)
                let potential = stripNationalPrefix(rest, entry, out: scratch)
                let general = store.descTable[entry &* 11].dfa
                let fullMatches = store.fullMatch(general, d.base, 0, d.count)
                if (!fullMatches && store.fullMatch(general, potential.base, 0, potential.count))
                    || testLength(d.count, entry) == .tooLong
                {
                    return .found(cc, potential)
                }
            }
        }
        return .national
    }

    /// `_maybe_strip_national_prefix_carrier_code`: returns the number without its national prefix
    /// (or transformed), or the number unchanged.
    private func stripNationalPrefix(_ d: DigitSpan, _ entry: Int, out: UnsafeMutablePointer<UInt8>) -> DigitSpan {
        let hot = store.hot[entry]
        if d.count == 0 || !hot.hasPrefixRules { return d }
        let result: DigitSpan
        if hot.simplePrefixRule >= 0 {
            let end = store.longestMatch(hot.simplePrefixRule, d.base, 0, d.count)
            if end < 0 { return d }
            result = DigitSpan(base: d.base + end, count: d.count - end)
        } else {
            guard let r = applyPrefixRules(d, store.entries[entry].prefixRules, out: out) else { return d }
            result = r
        }
        let general = store.descTable[entry &* 11].dfa
        if store.fullMatch(general, d.base, 0, d.count) && !store.fullMatch(general, result.base, 0, result.count) {
            return d
        }
        return result
    }

    private func applyPrefixRules(_ d: DigitSpan, _ rules: [PrefixRule], out: UnsafeMutablePointer<UInt8>) -> DigitSpan? {
        for rule in rules {
            var emitStart = 0, emitEnd = 0
            let end: Int
            if rule.segments.count == 1 && !rule.anchored && !rule.segments[0].emit {
                end = store.longestMatch(rule.segments[0].dfa, d.base, 0, d.count)
            } else {
                end = matchSegments(rule, 0, 0, d, &emitStart, &emitEnd)
            }
            if end < 0 { continue }
            if !rule.transform { return DigitSpan(base: d.base + end, count: d.count - end) }
            var n = 0
            for c in rule.constant { out[n] = c; n += 1 }
            for i in emitStart..<emitEnd { out[n] = d.base[i]; n += 1 }
            for i in end..<d.count { out[n] = d.base[i]; n += 1 }
            return DigitSpan(base: UnsafePointer(out), count: n)
        }
        return nil
    }

    /// Matches the rule's segments one after the other, longest first, backtracking between segments.
    private func matchSegments(_ rule: PrefixRule, _ index: Int, _ pos: Int, _ d: DigitSpan,
                               _ emitStart: inout Int, _ emitEnd: inout Int) -> Int {
        if index == rule.segments.count {
            return (!rule.anchored || pos == d.count) ? pos : -1
        }
        let seg = rule.segments[index]
        // Bit k set: d[pos..<pos+k] is accepted by the segment.
        var ends: UInt64 = 0
        var s = Int(seg.dfa)
        if store.accepting[s] { ends |= 1 }
        var i = pos
        while i < d.count {
            let n = store.transitions[s * 10 + Int(d.base[i])]
            if n < 0 { break }
            s = Int(n)
            i += 1
            if store.accepting[s] { ends |= 1 << UInt64(i - pos) }
        }
        while ends != 0 {
            let k = 63 - ends.leadingZeroBitCount
            ends &= ~(1 << UInt64(k))
            let r = matchSegments(rule, index + 1, pos + k, d, &emitStart, &emitEnd)
            if r >= 0 {
                if seg.emit {
                    emitStart = pos
                    emitEnd = pos + k
                }
                return r
            }
        }
        return -1
    }

    /// `_test_number_length` with the general description.
    @inline(__always)
    func testLength(_ length: Int, _ entry: Int) -> LengthResult {
        if length < 32 && store.hot[entry].generalLocalOnly & (1 << UInt32(length)) != 0 { return .localOnly }
        let mask = store.descTable[entry &* 11].lengths
        let minimum = mask.trailingZeroBitCount
        let maximum = 31 - mask.leadingZeroBitCount
        if length == minimum { return .possible }
        if length < minimum { return .tooShort }
        if length > maximum { return .tooLong }
        return mask & (1 << UInt32(length)) != 0 ? .possible : .invalidLength
    }

    /// `_number_type_helper`.
    @inline(__always)
    func numberType(_ d: DigitSpan, _ entry: Int) -> PhoneNumberType {
        let descs = store.descTable + entry &* 11
        if !store.matches(descs[0], d.base, d.count) { return .unknown }
        let t = descs + 1
        if store.matches(t[DescIndex.premiumRate], d.base, d.count) { return .premiumRate }
        if store.matches(t[DescIndex.tollFree], d.base, d.count) { return .tollFree }
        if store.matches(t[DescIndex.sharedCost], d.base, d.count) { return .sharedCost }
        if store.matches(t[DescIndex.voip], d.base, d.count) { return .voip }
        if store.matches(t[DescIndex.personalNumber], d.base, d.count) { return .personalNumber }
        if store.matches(t[DescIndex.pager], d.base, d.count) { return .pager }
        if store.matches(t[DescIndex.uan], d.base, d.count) { return .uan }
        if store.matches(t[DescIndex.voicemail], d.base, d.count) { return .voicemail }
        let same = store.hot[entry].sameMobileAndFixedLinePattern
        if store.matches(t[DescIndex.fixedLine], d.base, d.count) {
            if same { return .fixedLineOrMobile }
            if store.matches(t[DescIndex.mobile], d.base, d.count) { return .fixedLineOrMobile }
            return .fixedLine
        }
        if !same && store.matches(t[DescIndex.mobile], d.base, d.count) {
            return .mobile
        }
        return .unknown
    }

    // MARK: - Errors

    private func makeError(_ code: PhoneNumberError.Code, _ input: UnsafeBufferPointer<UInt8>, entry: Int,
                           regionName: String) -> PhoneNumberError {
        var lo = 0, hi = input.count
        while lo < hi, input[lo] <= 0x20 { lo += 1 }
        while hi > lo, input[hi - 1] <= 0x20 { hi -= 1 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: input[lo..<hi]), as: UTF8.self)
        var label = regionName
        if entry >= 0 {
            let e = store.entries[entry]
            label = e.regionCode == "001" ? "+\(e.countryCode)" : e.regionCode
        }
        let message: String
        switch code {
        case .empty: message = "The phone number is empty"
        case .notANumber: message = "\"\(text)\" is not a phone number"
        case .invalidCountryCode: message = "\"\(text)\" does not start with a known country calling code"
        case .tooShort: message = entry >= 0 ? "\"\(text)\" is too short for \(label) numbers" : "\"\(text)\" is too short to be a phone number"
        case .tooLong: message = entry >= 0 ? "\"\(text)\" is too long for \(label) numbers" : "\"\(text)\" is too long to be a phone number"
        case .invalidNumber: message = "\"\(text)\" is not a valid \(label) number"
        case .unknownRegion: message = "\"\(text)\" has no country calling code and \"\(regionName)\" is not a known region"
        }
        return PhoneNumberError(code: code, message: message)
    }
}
