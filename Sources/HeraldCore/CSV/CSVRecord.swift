/// One record read by `CSVReader`: its fields as byte ranges into a shared buffer, turned into
/// `String`s only on demand.
///
/// A record is a value and may be kept after the `onRecord` closure returns (the reader's
/// buffer is copy-on-write; keeping records costs a copy, not correctness). Field indices are
/// 0-based.
public struct CSVRecord: Sendable, Hashable {
    /// 1-based row number as a spreadsheet counts it (header = row 1); see `CSVReader`.
    public let rowNumber: Int
    /// Why the record is not intact, if it is not.
    public let problem: CSVRecordProblem?
    /// Number of fields the record had in the input, even when they were discarded because of
    /// a size problem. Compare with the header's column count.
    public let rawFieldCount: Int

    private let storage: [UInt8]
    private let fieldEnds: [Int]

    init(rowNumber: Int, storage: [UInt8], fieldEnds: [Int], problem: CSVRecordProblem?, rawFieldCount: Int) {
        self.rowNumber = rowNumber
        self.storage = storage
        self.fieldEnds = fieldEnds
        self.problem = problem
        self.rawFieldCount = rawFieldCount
    }

    /// Builds a record from strings (tests, and callers that need a record from other input).
    public init(rowNumber: Int = 1, fields: [String]) {
        var storage: [UInt8] = []
        var ends: [Int] = []
        for field in fields {
            storage.append(contentsOf: field.utf8)
            ends.append(storage.count)
        }
        self.init(rowNumber: rowNumber, storage: storage, fieldEnds: ends, problem: nil, rawFieldCount: ends.count)
    }

    /// Number of fields available (0 when `problem` is a size problem).
    public var fieldCount: Int { fieldEnds.count }

    /// Byte range of field `index` in the record's storage.
    @inline(__always)
    private func range(_ index: Int) -> Range<Int> {
        precondition(index >= 0 && index < fieldEnds.count, "CSV field index out of range")
        let start = index == 0 ? 0 : fieldEnds[index - 1]
        return start..<fieldEnds[index]
    }

    /// Byte length of field `index`.
    public func byteCount(at index: Int) -> Int { range(index).count }

    /// Whether field `index` is empty.
    public func isEmpty(at index: Int) -> Bool { range(index).isEmpty }

    /// Whether every field is empty (a `,,,` line that spreadsheets emit for empty rows).
    public var isBlank: Bool { problem == nil && storage.isEmpty }

    /// The raw (unquoted) bytes of field `index`, without copying.
    public func withFieldBytes<R, E: Error>(
        at index: Int,
        _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R
    ) throws(E) -> R {
        let range = range(index)
        return try storage.withUnsafeBufferPointer { (bytes) throws(E) -> R in
            try body(UnsafeBufferPointer(rebasing: bytes[range]))
        }
    }

    /// The raw (unquoted) bytes of field `index`.
    public func bytes(at index: Int) -> ArraySlice<UInt8> { storage[range(index)] }

    /// Field `index` as a `String`; invalid UTF-8 is repaired with U+FFFD (check `problem`).
    public func string(at index: Int) -> String {
        withFieldBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Field `index` as a `String`, or `nil` when the record has fewer fields.
    public subscript(index: Int) -> String? {
        index >= 0 && index < fieldEnds.count ? string(at: index) : nil
    }

    /// Whether field `index` equals `text` byte for byte (no `String` is created).
    public func field(at index: Int, equals text: StaticString) -> Bool {
        withFieldBytes(at: index) { bytes in
            bytes.count == text.utf8CodeUnitCount
                && (bytes.isEmpty || memcmpEqual(bytes.baseAddress!, text.utf8Start, bytes.count))
        }
    }

    /// All fields as strings.
    public var strings: [String] { (0..<fieldEnds.count).map(string(at:)) }

    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for offset in 0..<count where a[offset] != b[offset] { return false }
    return true
}
