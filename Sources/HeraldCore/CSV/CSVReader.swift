/// Limits and dialect of a `CSVReader`.
public struct CSVReaderOptions: Sendable, Hashable {
    /// The field separator byte; `,` per RFC 4180. Must be ASCII and neither `"`, CR nor LF.
    public var delimiter: UInt8
    /// The largest field, in bytes after unquoting. A longer field makes its record fail with
    /// `CSVRecordProblem.fieldTooLarge`; the reader skips to the next record.
    public var maxFieldBytes: Int
    /// The largest record, in bytes of field content (quotes and separators not counted). A
    /// larger record fails with `CSVRecordProblem.recordTooLarge`.
    public var maxRecordBytes: Int
    /// The most fields a record may have; more fail with `CSVRecordProblem.tooManyFields`.
    public var maxFieldCount: Int

    public init(
        delimiter: UInt8 = UInt8(ascii: ","),
        maxFieldBytes: Int = 64 * 1024,
        maxRecordBytes: Int = 1024 * 1024,
        maxFieldCount: Int = 4096
    ) {
        precondition(
            delimiter < 0x80 && delimiter != UInt8(ascii: "\"") && delimiter != 0x0A && delimiter != 0x0D,
            "CSV delimiter must be ASCII and not a quote or line break"
        )
        self.delimiter = delimiter
        self.maxFieldBytes = max(1, maxFieldBytes)
        self.maxRecordBytes = max(1, maxRecordBytes)
        self.maxFieldCount = max(1, maxFieldCount)
    }
}

/// Why a record could not be read intact. The reader reports it on the record and goes on with
/// the next one, so an importer can turn it into a row error.
public enum CSVRecordProblem: Sendable, Hashable {
    /// Field `fieldIndex` (0-based) exceeded `CSVReaderOptions.maxFieldBytes`. The record's
    /// fields are not available (`fieldCount == 0`).
    case fieldTooLarge(fieldIndex: Int)
    /// The record exceeded `CSVReaderOptions.maxRecordBytes`. Fields are not available.
    case recordTooLarge
    /// The record had more than `CSVReaderOptions.maxFieldCount` fields. Fields are not available.
    case tooManyFields
    /// Field `fieldIndex` (0-based) is not valid UTF-8. Fields are available as raw bytes;
    /// `CSVRecord.string(at:)` repairs them with U+FFFD.
    case invalidUTF8(fieldIndex: Int)
    /// The input ended inside a quoted field (a quote was opened and never closed). The fields
    /// read so far are available.
    case unterminatedQuote
}

/// An incremental CSV parser (RFC 4180, plus what real exports contain) that is fed byte
/// chunks and hands out records as soon as they are complete.
///
/// Memory is bounded by the longest record: field bytes are copied (unquoted) into one reusable
/// buffer, never the whole input. Chunks may split the input anywhere, even inside a quoted
/// field, a `""` escape, a CRLF or the byte order mark.
///
/// Dialect:
/// - Fields are separated by `options.delimiter` (`,`). A field that starts with `"` is quoted:
///   it may contain the delimiter, CR, LF and `""` (one literal quote) — RFC 4180 §2.5–2.7.
/// - Records end with CRLF, LF or a lone CR (old Mac exports); the last record needs no line
///   break (RFC 4180 §2.2).
/// - A UTF-8 byte order mark at the very start is skipped.
/// - Empty lines are skipped (but still counted in `CSVRecord.rowNumber`, as a spreadsheet
///   shows them as empty rows). A line of separators only (`,,,`) is a record; see
///   `CSVRecord.isBlank`.
/// - Lenient where RFC 4180 is strict, as spreadsheet programs are: a quote inside an unquoted
///   field is a literal character (`5" disk`), and text after a closing quote is appended to
///   the field (`"ab"c` reads `abc`).
/// - Records may have any number of fields; `CSVRecord.fieldCount` lets the caller compare
///   with the header.
///
/// Row numbers: `CSVRecord.rowNumber` is 1-based and counts the way a spreadsheet numbers rows
/// when it opens the file: the first record (the header, for an import) is row 1, the first
/// data row is row 2, a skipped empty line still uses up a number, and a record whose quoted
/// field spans several lines is one row.
///
/// Usage:
/// ```swift
/// var reader = CSVReader()
/// for chunk in body { reader.feed(chunk) { record in … } }
/// reader.finish { record in … }
/// ```
/// If the `onRecord` closure throws, parsing stops and the reader must not be used further.
public struct CSVReader: Sendable {
    public let options: CSVReaderOptions

    @usableFromInline enum State: UInt8, Sendable {
        case fieldStart, unquoted, quoted, quoteInQuoted, afterCR
    }

    private var state: State = .fieldStart
    /// Unquoted bytes of the current record's fields.
    private var buffer: [UInt8] = []
    /// End offset in `buffer` of each completed field of the current record.
    private var fieldEnds: [Int] = []
    /// Offset in `buffer` where the current field starts.
    private var fieldStart = 0
    /// Whether the current record has consumed anything but a line break (distinguishes an
    /// empty line from a record with one empty quoted field).
    private var recordHasContent = false
    /// When set, the current record has failed and its bytes are being skipped.
    private var pendingProblem: CSVRecordProblem?
    private var discardedFieldCount = 0
    private var nextRowNumber = 1
    private var bomBytesSeen: [UInt8] = []
    private var bomResolved = false
    private var finished = false
    /// Whether any record has been delivered (useful for a header check).
    public private(set) var recordsRead = 0

    public init(options: CSVReaderOptions = CSVReaderOptions()) {
        self.options = options
        buffer.reserveCapacity(256)
        fieldEnds.reserveCapacity(16)
    }

    /// Bytes of memory held by the reader's reusable buffers (their capacity, not their
    /// contents). Stays near the size of the longest record, whatever the input length.
    public var bufferCapacity: Int {
        buffer.capacity + fieldEnds.capacity * MemoryLayout<Int>.stride + bomBytesSeen.capacity
    }

    /// The row number the next record will get.
    public var currentRowNumber: Int { nextRowNumber }

    // MARK: Feeding

    /// Parses `chunk`, calling `onRecord` for every record it completes.
    public mutating func feed<E: Error>(
        _ chunk: UnsafeRawBufferPointer,
        _ onRecord: (CSVRecord) throws(E) -> Void
    ) throws(E) {
        precondition(!finished, "CSVReader.feed after finish")
        guard chunk.count > 0 else { return }
        if !bomResolved {
            var index = 0
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            while bomBytesSeen.count < 3 && index < chunk.count {
                bomBytesSeen.append(chunk[index])
                index += 1
            }
            if bomBytesSeen.count < 3 && bomBytesSeen == Array(bom.prefix(bomBytesSeen.count)) {
                return  // still possibly a BOM; wait for more
            }
            bomResolved = true
            let seen = bomBytesSeen
            bomBytesSeen = []
            if seen != bom {
                // Not a BOM: the stashed bytes are data.
                try parseArray(seen, viaFeed: false, onRecord)
            }
            try parse(UnsafeRawBufferPointer(rebasing: chunk[index...]), onRecord)
            return
        }
        try parse(chunk, onRecord)
    }

    /// Parses `bytes` (an `Array`, `ArraySlice`, `Data`, … of bytes), calling `onRecord` for
    /// every record it completes.
    public mutating func feed<Bytes: Sequence<UInt8>, E: Error>(
        _ bytes: Bytes,
        _ onRecord: (CSVRecord) throws(E) -> Void
    ) throws(E) {
        let result: Result<Void, E>? = bytes.withContiguousStorageIfAvailable { buffer in
            do throws(E) {
                try self.feed(UnsafeRawBufferPointer(buffer), onRecord)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success?: return
        case .failure(let error)?: throw error
        case nil:
            let array = Array(bytes)
            try parseArray(array, viaFeed: true, onRecord)
        }
    }

    /// Ends the input: delivers the last record if it had no trailing line break. An input that
    /// ends inside a quoted field yields that record with `CSVRecordProblem.unterminatedQuote`.
    public mutating func finish<E: Error>(_ onRecord: (CSVRecord) throws(E) -> Void) throws(E) {
        guard !finished else { return }
        if !bomResolved {
            bomResolved = true
            let seen = bomBytesSeen
            bomBytesSeen = []
            if !seen.isEmpty && seen != [0xEF, 0xBB, 0xBF] {
                try parseArray(seen, viaFeed: false, onRecord)
            }
        }
        finished = true
        switch state {
        case .afterCR:
            return
        case .fieldStart:
            // Either nothing pending, or a separator was the last byte (`a,b,`).
            if fieldEnds.isEmpty && !recordHasContent && pendingProblem == nil { return }
            endField()
            try endRecord(onRecord)
        case .unquoted, .quoteInQuoted:
            endField()
            try endRecord(onRecord)
        case .quoted:
            endField()
            if pendingProblem == nil { pendingProblem = .unterminatedQuote }
            try endRecord(onRecord)
        }
    }

    /// Reads a whole in-memory input at once (tests, small files). Prefer `feed` for uploads.
    public static func readAll(
        _ bytes: some Sequence<UInt8>,
        options: CSVReaderOptions = CSVReaderOptions()
    ) -> [CSVRecord] {
        var reader = CSVReader(options: options)
        var records: [CSVRecord] = []
        reader.feed(bytes) { records.append($0) }
        reader.finish { records.append($0) }
        return records
    }

    // MARK: Parsing core

    private mutating func parseArray<E: Error>(
        _ bytes: [UInt8],
        viaFeed: Bool,
        _ onRecord: (CSVRecord) throws(E) -> Void
    ) throws(E) {
        let result: Result<Void, E> = bytes.withUnsafeBytes { raw in
            do throws(E) {
                if viaFeed { try self.feed(raw, onRecord) } else { try self.parse(raw, onRecord) }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    private mutating func parse<E: Error>(
        _ chunk: UnsafeRawBufferPointer,
        _ onRecord: (CSVRecord) throws(E) -> Void
    ) throws(E) {
        let count = chunk.count
        guard count > 0, let base = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let delimiter = options.delimiter
        let quote = UInt8(ascii: "\"")
        let cr: UInt8 = 0x0D
        let lf: UInt8 = 0x0A
        var i = 0
        while i < count {
            switch state {
            case .afterCR:
                if base[i] == lf { i += 1 }
                state = .fieldStart

            case .fieldStart:
                let byte = base[i]
                if byte == quote {
                    recordHasContent = true
                    state = .quoted
                    i += 1
                } else if byte == delimiter {
                    recordHasContent = true
                    endField()
                    i += 1
                } else if byte == lf || byte == cr {
                    i += 1
                    state = byte == cr ? .afterCR : .fieldStart
                    if fieldEnds.isEmpty && !recordHasContent && pendingProblem == nil {
                        nextRowNumber += 1  // empty line: skipped, but it is a spreadsheet row
                    } else {
                        endField()
                        try endRecord(onRecord)
                    }
                } else {
                    state = .unquoted
                }

            case .unquoted:
                let start = i
                while i < count {
                    let byte = base[i]
                    if byte == delimiter || byte == lf || byte == cr { break }
                    i += 1
                }
                if i > start {
                    recordHasContent = true
                    append(base + start, count: i - start)
                }
                if i == count { break }
                let byte = base[i]
                i += 1
                endField()
                if byte == delimiter {
                    state = .fieldStart
                } else {
                    state = byte == cr ? .afterCR : .fieldStart
                    try endRecord(onRecord)
                }

            case .quoted:
                let start = i
                while i < count && base[i] != quote { i += 1 }
                if i > start { append(base + start, count: i - start) }
                if i == count { break }
                i += 1
                state = .quoteInQuoted

            case .quoteInQuoted:
                let byte = base[i]
                if byte == quote {
                    var q = quote
                    append(&q, count: 1)
                    i += 1
                    state = .quoted
                } else if byte == delimiter {
                    endField()
                    i += 1
                    state = .fieldStart
                } else if byte == lf || byte == cr {
                    endField()
                    i += 1
                    state = byte == cr ? .afterCR : .fieldStart
                    try endRecord(onRecord)
                } else {
                    state = .unquoted  // lenient: `"ab"c` → `abc`
                }
            }
        }
    }

    @inline(__always)
    private mutating func append(_ pointer: UnsafePointer<UInt8>, count: Int) {
        if pendingProblem != nil { return }
        let fieldLength = buffer.count - fieldStart + count
        if fieldLength > options.maxFieldBytes {
            fail(.fieldTooLarge(fieldIndex: fieldEnds.count))
            return
        }
        if buffer.count + count > options.maxRecordBytes {
            fail(.recordTooLarge)
            return
        }
        buffer.append(contentsOf: UnsafeBufferPointer(start: pointer, count: count))
    }

    @inline(__always)
    private mutating func endField() {
        if pendingProblem != nil {
            discardedFieldCount += 1
            return
        }
        if fieldEnds.count == options.maxFieldCount {
            fail(.tooManyFields)
            return
        }
        fieldEnds.append(buffer.count)
        fieldStart = buffer.count
    }

    private mutating func fail(_ problem: CSVRecordProblem) {
        pendingProblem = problem
        discardedFieldCount = fieldEnds.count
        buffer.removeAll(keepingCapacity: false)  // a huge field must not pin its memory
        fieldEnds.removeAll(keepingCapacity: false)
        fieldStart = 0
    }

    private mutating func endRecord<E: Error>(_ onRecord: (CSVRecord) throws(E) -> Void) throws(E) {
        var problem = pendingProblem
        if problem == nil, let bad = firstInvalidUTF8Field() {
            problem = .invalidUTF8(fieldIndex: bad)
        }
        let row = nextRowNumber
        nextRowNumber += 1
        recordsRead += 1
        do {
            let record = CSVRecord(
                rowNumber: row, storage: buffer, fieldEnds: fieldEnds, problem: problem,
                rawFieldCount: pendingProblem == nil ? fieldEnds.count : discardedFieldCount
            )
            try onRecord(record)
        }
        buffer.removeAll(keepingCapacity: true)
        fieldEnds.removeAll(keepingCapacity: true)
        fieldStart = 0
        recordHasContent = false
        pendingProblem = nil
        discardedFieldCount = 0
    }

    /// Index of the first field that is not valid UTF-8, checking only records with non-ASCII
    /// bytes (a word-at-a-time scan keeps ASCII records cheap).
    private func firstInvalidUTF8Field() -> Int? {
        let hasNonASCII: Bool = buffer.withUnsafeBytes { raw in
            var index = 0
            let count = raw.count
            var acc: UInt64 = 0
            while index + 8 <= count {
                acc |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < count {
                acc |= UInt64(raw[index])
                index += 1
            }
            return acc & 0x8080_8080_8080_8080 != 0
        }
        guard hasNonASCII else { return nil }
        return buffer.withUnsafeBufferPointer { bytes in
            var start = 0
            for (index, end) in fieldEnds.enumerated() {
                let field = UnsafeBufferPointer(rebasing: bytes[start..<end])
                start = end
                if !CSVRecord.isValidUTF8(field) { return index }
            }
            return nil
        }
    }
}
