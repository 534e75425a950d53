import Foundation

/// A number-type description: a DFA (global start state, or -1 when the type does not exist)
/// plus a bit mask of the allowed national number lengths (bit n = length n allowed).
struct Desc {
    var dfa: Int32
    var lengths: UInt32

    static let none = Desc(dfa: -1, lengths: 0)
    static let anyLength: UInt32 = 0xFFFF_FFFF
}

/// One national-prefix-for-parsing rule compiled by scripts/phonenumbers/generate.py.
struct PrefixRule {
    struct Segment {
        var dfa: Int32
        var emit: Bool
    }

    /// The whole number must be consumed by the segments (regex `...$`).
    var anchored: Bool
    /// Result is `constant + emitted segments + rest`; otherwise it is `rest` (the prefix is stripped).
    var transform: Bool
    var constant: [UInt8]
    var segments: [Segment]
}

/// Metadata of one region ("US") or of one non-geographic country calling code ("001" for +800, ...).
struct RegionEntry {
    var regionCode: String
    var countryCode: Int
    /// The decimal digits of `countryCode`.
    var countryCodeDigits: [UInt8]
    var general: Desc
    var generalLocalOnly: UInt32
    /// premiumRate, tollFree, sharedCost, voip, personalNumber, pager, uan, voicemail, fixedLine, mobile.
    var descs: [Desc]
    var sameMobileAndFixedLinePattern: Bool
    var leadingDigits: Int32
    var internationalPrefix: Int32
    var prefixRules: [PrefixRule]
}

/// Per-entry data needed on every parse, stored in a flat buffer.
struct HotEntry {
    var countryCode: Int32
    var generalLocalOnly: UInt32
    var sameMobileAndFixedLinePattern: Bool
    var leadingDigits: Int32
    var internationalPrefix: Int32
    var hasPrefixRules: Bool
    /// When the only national prefix rule is a plain "strip the longest match" rule: its DFA; else -1.
    var simplePrefixRule: Int32
}

/// Index of the descriptions in `RegionEntry.descs`, in libphonenumber's type-resolution order.
enum DescIndex {
    static let premiumRate = 0, tollFree = 1, sharedCost = 2, voip = 3, personalNumber = 4, pager = 5,
        uan = 6, voicemail = 7, fixedLine = 8, mobile = 9
}

/// Immutable, fully loaded metadata. Created once; never mutated afterwards.
final class MetadataStore: @unchecked Sendable {
    /// The libphonenumber / phonenumbers version the data was generated from.
    let version: String
    /// DFA transitions: `transitions[state * 10 + digit]` is the next global state or -1.
    let transitions: UnsafeMutablePointer<Int32>
    let accepting: UnsafeMutablePointer<Bool>
    let stateCount: Int
    let entries: [RegionEntry]
    /// Hot per-entry data, flattened for allocation- and refcount-free access during parsing.
    /// `descTable[entry * 11]` is the general description, `+ 1 + DescIndex.x` the type descriptions.
    let descTable: UnsafeMutablePointer<Desc>
    let hot: UnsafeMutablePointer<HotEntry>
    /// Entry indices per country calling code, flattened: `ccStart[cc]..<ccStart[cc + 1]` index `ccEntries`.
    let ccStart: UnsafeMutablePointer<Int32>
    let ccEntries: UnsafeMutablePointer<Int32>
    /// Entry index per two-letter region code, indexed by `(first - 65) * 26 + (second - 65)`; -1 if unknown.
    let regionTable: [Int16]
    /// Entry indices per country calling code (0...999), main region first.
    let countryCodeTable: [[Int]]
    let geoMobileCountries: Set<Int>
    let timeZoneLists: [[String]]
    /// Key: `prefixValue << 4 | prefixLength` (prefix includes the country code).
    let timeZonePrefixes: [UInt64: Int]

    deinit {
        transitions.deallocate()
        accepting.deallocate()
        descTable.deallocate()
        hot.deallocate()
        ccStart.deallocate()
        ccEntries.deallocate()
    }

    enum LoadError: Error {
        case missingResource
        case corrupt(String)
    }

    static func loadBundled() throws -> MetadataStore {
        guard let url = Bundle.module.url(forResource: "phonenumbers", withExtension: "bin", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "phonenumbers", withExtension: "bin")
        else { throw LoadError.missingResource }
        return try MetadataStore(data: Data(contentsOf: url))
    }

    init(data: Data) throws {
        var r = ByteReader(bytes: [UInt8](data))
        guard try r.bytes(4).elementsEqual("HPN1".utf8) else { throw LoadError.corrupt("bad magic") }
        version = try r.string()

        // DFAs: local 16-bit state numbers are rebased into one global transition table.
        let dfaCount = Int(try r.u32())
        var starts = [Int32]()
        starts.reserveCapacity(dfaCount)
        var trans = [Int32]()
        var acc = [Bool]()
        for _ in 0..<dfaCount {
            let n = Int(try r.u16())
            let base = Int32(acc.count)
            starts.append(base)
            for _ in 0..<(n * 10) {
                let t = try r.u16()
                trans.append(t == 0xFFFF ? -1 : base + Int32(t))
            }
            for _ in 0..<n { acc.append(try r.u8() != 0) }
        }
        stateCount = acc.count
        transitions = .allocate(capacity: max(trans.count, 1))
        transitions.initialize(from: trans, count: trans.count)
        accepting = .allocate(capacity: max(acc.count, 1))
        accepting.initialize(from: acc, count: acc.count)

        func dfa(_ idx: Int32) throws -> Int32 {
            if idx < 0 { return -1 }
            guard Int(idx) < starts.count else { throw LoadError.corrupt("dfa index") }
            return starts[Int(idx)]
        }

        let entryCount = Int(try r.u32())
        var entries = [RegionEntry]()
        entries.reserveCapacity(entryCount)
        var regionTable = [Int16](repeating: -1, count: 26 * 26)
        for i in 0..<entryCount {
            let id = try r.string()
            let cc = Int(try r.u16())
            let general = Desc(dfa: try dfa(r.i32()), lengths: try r.u32())
            let local = try r.u32()
            var descs = [Desc]()
            for _ in 0..<10 { descs.append(Desc(dfa: try dfa(r.i32()), lengths: try r.u32())) }
            let same = try r.u8() != 0
            let leading = try dfa(r.i32())
            let idd = try dfa(r.i32())
            var rules = [PrefixRule]()
            for _ in 0..<Int(try r.u8()) {
                let flags = try r.u8()
                let constant = Array(try r.string().utf8).map { $0 &- 48 }
                var segs = [PrefixRule.Segment]()
                for _ in 0..<Int(try r.u8()) {
                    segs.append(.init(dfa: try dfa(r.i32()), emit: try r.u8() != 0))
                }
                rules.append(PrefixRule(anchored: flags & 1 != 0, transform: flags & 2 != 0, constant: constant, segments: segs))
            }
            guard general.dfa >= 0, general.lengths != 0 else { throw LoadError.corrupt("general desc of \(id)") }
            entries.append(RegionEntry(
                regionCode: id, countryCode: cc, countryCodeDigits: Array(String(cc).utf8).map { $0 - 48 },
                general: general, generalLocalOnly: local, descs: descs, sameMobileAndFixedLinePattern: same,
                leadingDigits: leading, internationalPrefix: idd, prefixRules: rules))
            let u = Array(id.utf8)
            if u.count == 2, (65...90).contains(u[0]), (65...90).contains(u[1]) {
                regionTable[Int(u[0] - 65) * 26 + Int(u[1] - 65)] = Int16(i)
            }
        }
        self.entries = entries
        self.regionTable = regionTable

        var ccTable = [[Int]](repeating: [], count: 1000)
        for _ in 0..<Int(try r.u32()) {
            let cc = Int(try r.u16())
            var list = [Int]()
            for _ in 0..<Int(try r.u8()) { list.append(Int(try r.u16())) }
            guard cc < 1000 else { throw LoadError.corrupt("country code") }
            ccTable[cc] = list
        }
        countryCodeTable = ccTable
        descTable = .allocate(capacity: entries.count * 11)
        hot = .allocate(capacity: entries.count)
        for (i, e) in entries.enumerated() {
            (descTable + i * 11).initialize(to: e.general)
            for k in 0..<10 { (descTable + i * 11 + 1 + k).initialize(to: e.descs[k]) }
            var simple: Int32 = -1
            if e.prefixRules.count == 1, e.prefixRules[0].segments.count == 1, !e.prefixRules[0].anchored,
               !e.prefixRules[0].transform
            {
                simple = e.prefixRules[0].segments[0].dfa
            }
            (hot + i).initialize(to: HotEntry(
                countryCode: Int32(e.countryCode), generalLocalOnly: e.generalLocalOnly,
                sameMobileAndFixedLinePattern: e.sameMobileAndFixedLinePattern, leadingDigits: e.leadingDigits,
                internationalPrefix: e.internationalPrefix, hasPrefixRules: !e.prefixRules.isEmpty,
                simplePrefixRule: simple))
        }
        ccStart = .allocate(capacity: 1001)
        let total = ccTable.reduce(0) { $0 + $1.count }
        ccEntries = .allocate(capacity: max(total, 1))
        var k = 0
        for cc in 0..<1000 {
            ccStart[cc] = Int32(k)
            for idx in ccTable[cc] {
                ccEntries[k] = Int32(idx)
                k += 1
            }
        }
        ccStart[1000] = Int32(k)

        var geo = Set<Int>()
        for _ in 0..<Int(try r.u8()) { geo.insert(Int(try r.u16())) }
        geoMobileCountries = geo

        var names = [String]()
        for _ in 0..<Int(try r.u32()) { names.append(try r.string()) }
        var lists = [[String]]()
        for _ in 0..<Int(try r.u32()) {
            var l = [String]()
            for _ in 0..<Int(try r.u8()) { l.append(names[Int(try r.u16())]) }
            lists.append(l)
        }
        timeZoneLists = lists
        var prefixes = [UInt64: Int]()
        let prefixCount = Int(try r.u32())
        prefixes.reserveCapacity(prefixCount)
        for _ in 0..<prefixCount {
            let p = Array(try r.string().utf8)
            var v: UInt64 = 0
            for c in p { v = v * 10 + UInt64(c - 48) }
            prefixes[v << 4 | UInt64(p.count)] = Int(try r.u16())
        }
        timeZonePrefixes = prefixes
        guard try r.bytes(4).elementsEqual("END!".utf8) else { throw LoadError.corrupt("trailer") }
    }

    // MARK: - DFA walking

    /// Whether `digits[from..<to]` is accepted in full by the DFA starting at `start`.
    @inline(__always)
    func fullMatch(_ start: Int32, _ digits: UnsafePointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        if start < 0 { return false }
        var s = Int(start)
        var i = from
        while i < to {
            let n = transitions[s &* 10 &+ Int(digits[i])]
            if n < 0 { return false }
            s = Int(n)
            i &+= 1
        }
        return accepting[s]
    }

    /// The end of the longest prefix of `digits[from..<to]` accepted by the DFA, or -1.
    @inline(__always)
    func longestMatch(_ start: Int32, _ digits: UnsafePointer<UInt8>, _ from: Int, _ to: Int) -> Int {
        if start < 0 { return -1 }
        var s = Int(start)
        var best = accepting[s] ? from : -1
        var i = from
        while i < to {
            let n = transitions[s &* 10 &+ Int(digits[i])]
            if n < 0 { break }
            s = Int(n)
            i &+= 1
            if accepting[s] { best = i }
        }
        return best
    }

    /// Whether some prefix (possibly empty) of `digits[from..<to]` is accepted (regex `match` semantics).
    @inline(__always)
    func prefixMatch(_ start: Int32, _ digits: UnsafePointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        longestMatch(start, digits, from, to) >= 0
    }

    /// libphonenumber's `_is_number_matching_desc`: length check, then full pattern match.
    @inline(__always)
    func matches(_ desc: Desc, _ digits: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        if desc.dfa < 0 { return false }
        if desc.lengths != Desc.anyLength {
            if count >= 32 || desc.lengths & (1 << UInt32(count)) == 0 { return false }
        }
        return fullMatch(desc.dfa, digits, 0, count)
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var pos = 0

    mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
        guard pos + n <= bytes.count else { throw MetadataStore.LoadError.corrupt("truncated") }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    mutating func u8() throws -> UInt8 { try bytes(1).first! }

    mutating func u16() throws -> UInt16 {
        let b = try bytes(2)
        return UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
    }

    mutating func u32() throws -> UInt32 {
        let b = try bytes(4)
        var v: UInt32 = 0
        for (k, x) in b.enumerated() { v |= UInt32(x) << (8 * UInt32(k)) }
        return v
    }

    mutating func i32() throws -> Int32 { Int32(bitPattern: try u32()) }

    mutating func string() throws -> String {
        let n = Int(try u8())
        return String(decoding: try bytes(n), as: UTF8.self)
    }
}
