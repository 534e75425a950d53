import HeraldCore
import PropertyBased
import Testing

@Suite("CSV writer", .timeLimit(.minutes(10)))
struct CSVWriterTests {
    private func written(_ cells: [String], protect: Bool = true) -> String {
        var writer = CSVWriter(protectsFormulas: protect)
        writer.writeRow(cells)
        return String(decoding: writer.takeBytes(), as: UTF8.self)
    }

    @Test("Formula injection protection (API.md §5.3)", arguments: [
        ("=SUM(1)", "'=SUM(1)"),
        ("+1234", "+1234"),
        ("+12025550100", "+12025550100"),
        ("-5", "-5"),
        ("-12.5", "-12.5"),
        ("+3e5", "+3e5"),
        ("-x", "'-x"),
        ("+", "'+"),
        ("-", "'-"),
        ("+1 202 555", "'+1 202 555"),
        ("@a", "'@a"),
        ("\tx", "'\tx"),
        ("\rx", "\"'\rx\""),
        ("=1,2", "\"'=1,2\""),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", "\"\""),
        // A leading apostrophe before a trigger is escaped too, so the escape can be undone.
        ("'=x", "''=x"),
        ("''=x", "'''=x"),
        ("'-1", "''-1"),
        ("'", "'"),
        ("'abc", "'abc"),
    ])
    func formulaInjection(cell: String, expected: String) {
        #expect(written([cell]) == expected + "\r\n")
    }

    /// Values an export may hold, with the cell written for each.
    static let escapeTable: [(String, String)] = [
        ("'", "'"), ("''", "''"), ("''=x", "'''=x"), ("'=x", "''=x"), ("=x", "'=x"), ("-1", "-1"), ("+1", "+1"),
        ("+1 919 555 0100", "'+1 919 555 0100"), ("+19195550100", "+19195550100"), ("\tx", "'\tx"),
        ("\r=x", "'\r=x"), ("", ""), ("@home", "'@home"), ("'@", "''@"), ("it's", "it's"), ("=cmd;vip", "'=cmd;vip"),
    ]

    @Test("The formula escape and its removal are inverses", arguments: escapeTable)
    func escapeInverse(value: String, cell: String) {
        #expect((CSVWriter.needsFormulaPrefix(value) ? "'" + value : value) == cell)
        #expect(CSVWriter.removingFormulaPrefix(cell) == value)
    }

    @Test("A cell typed with a leading apostrophe before a trigger loses it; others are kept", arguments: [
        ("'=1+1", "=1+1"), ("'-", "-"), ("''+x", "'+x"), ("'x", "'x"), ("' =x", "' =x"), ("x'=", "x'="), ("", ""),
    ])
    func removingPrefix(cell: String, expected: String) {
        #expect(CSVWriter.removingFormulaPrefix(cell) == expected)
    }

    @Test("Protected output reads back as the same cells once the escape is removed")
    func protectedRoundTrip() async {
        let cell = Gen<Character>.oneOf(
            Gen.letterOrNumber, Gen.element(of: ["'", "'", "=", "+", "-", "@", "\t", "\r", "1", ".", "e", ",", "\""]).map { $0! }
        ).string(of: 0...6)
        await propertyCheck(count: 500, input: cell.array(of: 2...4)) { row in
            var writer = CSVWriter()
            writer.writeRow(row)
            #expect(Self.read(writer.takeBytes(), chunk: 7).map { $0.map(CSVWriter.removingFormulaPrefix) } == [row])
        }
    }

    @Test("Quoting per RFC 4180", arguments: [
        (["a,b", "c"], "\"a,b\",c\r\n"),
        (["say \"hi\""], "\"say \"\"hi\"\"\"\r\n"),
        (["line\nbreak", "cr\rx"], "\"line\nbreak\",\"cr\rx\"\r\n"),
        (["", ""], ",\r\n"),
        (["\u{FEFF}x"], "\"\u{FEFF}x\"\r\n"),
    ])
    func quoting(cells: [String], expected: String) {
        #expect(written(cells, protect: false) == expected)
    }

    @Test("Streaming: takeBytes drains the buffer")
    func streaming() {
        var writer = CSVWriter(byteOrderMark: true)
        writer.writeRow(["a"])
        #expect(writer.takeBytes() == [0xEF, 0xBB, 0xBF, 0x61, 0x0D, 0x0A])
        #expect(writer.pendingByteCount == 0)
        writer.writeRow(["b", nil])
        #expect(writer.takeBytes() == Array("b,\r\n".utf8))
    }

    @Test("Writer output reads back as the same cells")
    func roundTrip() async {
        let cell = Gen<Character>.oneOf(
            Gen.letterOrNumber,
            Gen.element(of: [",", "\"", "\r", "\n", " ", "=", "+", "-", "é", "日", "\u{FEFF}", "\t", ";"]).map { $0! }
        ).string(of: 0...12)
        await propertyCheck(count: 300, input: cell.array(of: 1...6).array(of: 1...5), Gen.int(in: 1...17)) { rows, chunk in
            var writer = CSVWriter(protectsFormulas: false)
            for row in rows { writer.writeRow(row) }
            #expect(Self.read(writer.takeBytes(), chunk: chunk) == rows)
        }
    }

    /// The records `bytes` hold, fed to a reader `chunk` bytes at a time.
    static func read(_ bytes: [UInt8], chunk: Int) -> [[String]] {
        var reader = CSVReader()
        var read: [[String]] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            reader.feed(bytes[offset..<end]) { read.append($0.strings) }
            offset = end
        }
        reader.finish { read.append($0.strings) }
        return read
    }
}
