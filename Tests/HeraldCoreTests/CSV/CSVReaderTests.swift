import HeraldCore
import Testing

/// Reads `input` fed in the given chunk sizes (all at once by default) and returns the fields of
/// each record with its row number and problem.
private func read(
    _ input: [UInt8], chunks: [Int]? = nil, options: CSVReaderOptions = CSVReaderOptions()
) -> [CSVRecord] {
    var reader = CSVReader(options: options)
    var records: [CSVRecord] = []
    var offset = 0
    for size in chunks ?? [input.count] where offset < input.count {
        let end = min(input.count, offset + size)
        reader.feed(input[offset..<end]) { records.append($0) }
        offset = end
    }
    if offset < input.count { reader.feed(input[offset...]) { records.append($0) } }
    reader.finish { records.append($0) }
    return records
}

private func fields(_ text: String) -> [[String]] {
    read(Array(text.utf8)).map(\.strings)
}

@Suite("CSV reader", .timeLimit(.minutes(10)))
struct CSVReaderTests {
    @Test("RFC 4180 and real-export dialect", arguments: [
        ("a,b,c\r\n1,2,3\r\n", [["a", "b", "c"], ["1", "2", "3"]]),
        ("a,b\n1,2\n", [["a", "b"], ["1", "2"]]),
        ("a,b\r1,2\r", [["a", "b"], ["1", "2"]]),
        ("a,b\r\n1,2", [["a", "b"], ["1", "2"]]),
        ("\"a,b\",\"c\"\"d\",\"e\r\nf\"\n", [["a,b", "c\"d", "e\r\nf"]]),
        ("\"line\rbreak\",x", [["line\rbreak", "x"]]),
        ("a,,c,\n", [["a", "", "c", ""]]),
        ("\n\r\n\ra\n\n\nb\n", [["a"], ["b"]]),
        ("\"\"\n", [[""]]),
        (",\n", [["", ""]]),
        ("5\" disk,x\n", [["5\" disk", "x"]]),
        ("\"ab\"c,d\n", [["abc", "d"]]),
        ("é,日本\n", [["é", "日本"]]),
        ("", []),
        ("\"\"\"\"", [["\""]]),
        (" a , b \n", [[" a ", " b "]]),
    ] as [(String, [[String]])])
    func dialect(input: String, expected: [[String]]) {
        #expect(fields(input) == expected)
    }

    @Test("UTF-8 byte order mark is skipped, also when split across chunks", arguments: [1, 2, 3, 100])
    func byteOrderMark(chunk: Int) {
        let input: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("phone,x\n1,2\n".utf8)
        let records = read(input, chunks: Array(repeating: chunk, count: input.count))
        #expect(records.map(\.strings) == [["phone", "x"], ["1", "2"]])
    }

    @Test("Bytes resembling a BOM prefix are data", arguments: [[0xEF, 0x41], [0xEF, 0xBB, 0x41]] as [[UInt8]])
    func notBOM(prefix: [UInt8]) {
        let records = read(prefix + Array(",b\n".utf8), chunks: [1, 1, 1, 1, 1, 1])
        #expect(records.count == 1)
        #expect(records.first?.bytes(at: 0).elementsEqual(prefix) == true)
        #expect(records.first?.problem == .invalidUTF8(fieldIndex: 0))
    }

    @Test("Row numbers count as a spreadsheet does (header 1, blank lines counted, multi-line fields one row)")
    func rowNumbers() {
        let records = read(Array("h1,h2\n1,2\n\n\"multi\nline\",3\n4,5".utf8))
        #expect(records.map(\.rowNumber) == [1, 2, 4, 5])
    }

    @Test("Field counts are exposed for ragged rows", arguments: [
        ("a,b,c\n1,2\n1,2,3,4\n", [3, 2, 4]),
        ("x\n,,\n", [1, 3]),
    ] as [(String, [Int])])
    func fieldCounts(input: String, counts: [Int]) {
        let records = read(Array(input.utf8))
        #expect(records.map(\.fieldCount) == counts)
        #expect(records.map(\.rawFieldCount) == counts)
    }

    @Test("Blank rows of separators are flagged")
    func blankRows() {
        let records = read(Array("a,b\n,,\n\"\",\n".utf8))
        #expect(records.map(\.isBlank) == [false, true, true])
    }

    @Test("Oversized field fails its row only; the reader recovers at the next record", arguments: [1, 7, 4096, 1 << 20])
    func fieldTooLarge(chunk: Int) throws {
        let big = String(repeating: "x", count: 100)
        let quotedBig = "\"" + String(repeating: "y,\n", count: 40) + "\""
        let input = Array("a,b\n1,\(big)\n2,ok\n\(quotedBig),3\n4,5\n".utf8)
        let records = read(input, chunks: Array(repeating: chunk, count: input.count / chunk + 1),
                           options: CSVReaderOptions(maxFieldBytes: 50))
        #expect(records.map(\.rowNumber) == [1, 2, 3, 4, 5])
        #expect(records.map(\.problem) == [nil, .fieldTooLarge(fieldIndex: 1), nil, .fieldTooLarge(fieldIndex: 0), nil])
        #expect(records[1].fieldCount == 0)
        #expect(records[1].rawFieldCount == 2)
        #expect(records[3].rawFieldCount == 2)
        #expect(records[2].strings == ["2", "ok"])
        #expect(records[4].strings == ["4", "5"])
    }

    @Test("Record size and field count limits", arguments: [
        (CSVReaderOptions(maxFieldBytes: 10, maxRecordBytes: 15), CSVRecordProblem.recordTooLarge),
        (CSVReaderOptions(maxFieldCount: 3), CSVRecordProblem.tooManyFields),
    ])
    func recordLimits(options: CSVReaderOptions, problem: CSVRecordProblem) {
        let records = read(Array("aaaaaa,bbbbbb,cccccc,d\nok\n".utf8), options: options)
        #expect(records.map(\.problem) == [problem, nil])
        #expect(records.last?.strings == ["ok"])
    }

    @Test("Invalid UTF-8 is reported per row with the field index", arguments: [
        ([0x61, 0x2C, 0xFF, 0x0A, 0x62, 0x0A], 1),
        ([0xC3, 0x28, 0x0A, 0x62, 0x0A], 0),
        ([0x61, 0x2C, 0x62, 0x2C, 0xE2, 0x82, 0x0A, 0x62, 0x0A], 2),
    ] as [([UInt8], Int)])
    func invalidUTF8(input: [UInt8], field: Int) {
        let records = read(input)
        #expect(records.map(\.problem) == [.invalidUTF8(fieldIndex: field), nil])
        #expect(records[0].string(at: field).contains("\u{FFFD}"))
        #expect(records[1].strings == ["b"])
    }

    @Test("Unterminated quote at end of input is reported")
    func unterminatedQuote() {
        let records = read(Array("a,b\n1,\"open".utf8))
        #expect(records.last?.problem == .unterminatedQuote)
        #expect(records.last?.strings == ["1", "open"])
    }

    @Test("Other delimiters")
    func semicolon() {
        let records = read(Array("a;\"b;c\"\n".utf8), options: CSVReaderOptions(delimiter: UInt8(ascii: ";")))
        #expect(records.map(\.strings) == [["a", "b;c"]])
    }

    static let tricky: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(
        "phone,name,\"note\"\r\n+1202,\"Smith, \"\"Al\"\"\",\"a\r\nb\"\r\r\n\n+1303,é,\"\"\r+1404,x,\"q\"\"\"\n,,\n\"end\",\"z\"\"".utf8)

    @Test("Same records whatever the chunk boundaries", arguments: 0...tricky.count)
    func chunkBoundaries(split: Int) {
        let whole = read(Self.tricky)
        #expect(whole.count == 6)
        #expect(read(Self.tricky, chunks: [split, Self.tricky.count]) == whole)
    }

    @Test("Byte-at-a-time feeding matches whole feeding")
    func byteAtATime() {
        let whole = read(Self.tricky)
        #expect(read(Self.tricky, chunks: Array(repeating: 1, count: Self.tricky.count)) == whole)
        #expect(whole.map(\.strings) == [
            ["phone", "name", "note"], ["+1202", "Smith, \"Al\"", "a\r\nb"], ["+1303", "é", ""],
            ["+1404", "x", "q\""], ["", "", ""], ["end", "z\""],
        ])
        #expect(whole.map(\.rowNumber) == [1, 2, 5, 6, 7, 8])
        #expect(whole.map(\.problem) == [nil, nil, nil, nil, nil, .unterminatedQuote])
    }

    @Test("Memory stays bounded over 200 MB fed in 64 KiB chunks")
    func boundedMemory() {
        var reader = CSVReader()
        var chunk: [UInt8] = []
        let row = Array("+12025550100,Alexandra,Montgomery,alex@example.com,Raleigh,NC,27601,vip;a\r\n".utf8)
        while chunk.count + row.count <= 65_536 { chunk += row }
        chunk += Array("\"partial row, continued in the next chunk".utf8)
        var records = 0
        var maxCapacity = 0
        var fed = 0
        var next = chunk
        next[0] = UInt8(ascii: "\"")  // closes the quote left open by the previous chunk's tail
        next[1] = UInt8(ascii: "\n")
        var first = true
        while fed < 200 * 1024 * 1024 {
            let bytes = first ? chunk : next
            first = false
            reader.feed(bytes) { _ in records += 1 }
            fed += bytes.count
            maxCapacity = max(maxCapacity, reader.bufferCapacity)
        }
        reader.finish { _ in records += 1 }
        #expect(records > 2_000_000)
        #expect(maxCapacity < 4096)
    }
}
