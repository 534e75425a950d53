/// A streaming CSV writer (RFC 4180) with spreadsheet formula-injection protection (API.md §5.3,
/// OWASP "CSV Injection").
///
/// Rows are appended to an in-memory byte buffer that the caller drains with `takeBytes()`
/// whenever it wants to flush (e.g. every few hundred rows of an export), so memory stays
/// bounded by what the caller lets accumulate.
///
/// - Cells containing the delimiter, `"`, CR or LF are quoted, with `"` doubled (RFC 4180
///   §2.6–2.7). A cell beginning with U+FEFF is quoted too, so a reader does not take it for a
///   byte order mark, and a row of one empty cell is written `""` so it is not an empty line.
/// - Records end with CRLF by default (RFC 4180 §2.1).
/// - With `protectsFormulas` (the default), a cell whose first character is `=`, `+`, `-`, `@`,
///   a tab or a carriage return gets a leading `'`, unless the whole cell is a number (`-12.5`,
///   `+3`, `1e6`) or an E.164 phone number (`+12025550100`). So does a cell of apostrophes
///   followed by one of those characters (`'=x`), so that the escape can be undone: a reader
///   that takes the file back removes one `'` from a cell of one or more apostrophes followed
///   by such a character (`removingFormulaPrefix(_:)`), and gets every cell as it was.
public struct CSVWriter: Sendable {
    public var delimiter: UInt8
    public var lineEnding: [UInt8]
    public var protectsFormulas: Bool
    private var buffer: [UInt8] = []

    /// - Parameter byteOrderMark: start the output with a UTF-8 BOM, which makes Excel read the
    ///   file as UTF-8.
    public init(
        delimiter: UInt8 = UInt8(ascii: ","),
        lineEnding: [UInt8] = [0x0D, 0x0A],
        protectsFormulas: Bool = true,
        byteOrderMark: Bool = false
    ) {
        self.delimiter = delimiter
        self.lineEnding = lineEnding
        self.protectsFormulas = protectsFormulas
        if byteOrderMark { buffer.append(contentsOf: [0xEF, 0xBB, 0xBF]) }
    }

    /// Bytes written and not yet taken.
    public var pendingByteCount: Int { buffer.count }

    /// Returns the bytes written since the last call and empties the buffer.
    public mutating func takeBytes() -> [UInt8] {
        let bytes = buffer
        buffer.removeAll(keepingCapacity: true)
        return bytes
    }

    /// Appends one record. An empty `cells` writes an empty line (which readers skip).
    public mutating func writeRow<S: Sequence>(_ cells: S) where S.Element: StringProtocol {
        var first = true
        var count = 0
        var lastWasEmpty = false
        for cell in cells {
            if !first { buffer.append(delimiter) }
            first = false
            count += 1
            lastWasEmpty = cell.isEmpty
            appendCell(cell)
        }
        if count == 1 && lastWasEmpty { buffer.append(contentsOf: [0x22, 0x22]) }
        buffer.append(contentsOf: lineEnding)
    }

    /// Appends one record of optional cells (`nil` is written as an empty cell).
    public mutating func writeRow(_ cells: [String?]) {
        writeRow(cells.map { $0 ?? "" })
    }

    private mutating func appendCell<S: StringProtocol>(_ cell: S) {
        let prefix = protectsFormulas && CSVWriter.needsFormulaPrefix(cell)
        var needsQuotes = false
        let utf8 = cell.utf8
        if utf8.starts(with: [0xEF, 0xBB, 0xBF]) { needsQuotes = true }
        if !needsQuotes {
            for byte in utf8 where byte == delimiter || byte == 0x22 || byte == 0x0D || byte == 0x0A {
                needsQuotes = true
                break
            }
        }
        if !needsQuotes {
            if prefix { buffer.append(UInt8(ascii: "'")) }
            buffer.append(contentsOf: utf8)
            return
        }
        buffer.append(0x22)
        if prefix { buffer.append(UInt8(ascii: "'")) }
        for byte in utf8 {
            if byte == 0x22 { buffer.append(0x22) }
            buffer.append(byte)
        }
        buffer.append(0x22)
    }

    /// Whether `cell` needs a leading `'` (`^'*[=+\-@\t\r]`): a spreadsheet would read it as a
    /// formula, or it already starts with apostrophes before such a character, which
    /// `removingFormulaPrefix(_:)` would otherwise take for an escape. A cell starting with `+` or
    /// `-` that is wholly a number or an E.164 phone number is left alone.
    public static func needsFormulaPrefix<S: StringProtocol>(_ cell: S) -> Bool {
        let bytes = cell.utf8
        let rest = bytes.drop { $0 == apostrophe }
        guard let first = rest.first, isFormulaTrigger(first) else { return false }
        if rest.startIndex != bytes.startIndex { return true }
        switch first {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            return !(isPlainNumber(bytes) || isE164(bytes))
        default:
            return true
        }
    }

    /// Undoes the writer's formula escape (`needsFormulaPrefix(_:)`): removes exactly one
    /// leading `'` when the cell is one or more apostrophes followed by `=`, `+`, `-`, `@`, a
    /// tab or a carriage return (`^'+[=+\-@\t\r]`); any other cell is returned as it is. For
    /// every `value`, a cell written from it reads back as `value`.
    public static func removingFormulaPrefix(_ cell: String) -> String {
        let bytes = cell.utf8
        guard bytes.first == apostrophe, let first = bytes.drop(while: { $0 == apostrophe }).first,
              isFormulaTrigger(first) else { return cell }
        return String(decoding: bytes.dropFirst(), as: UTF8.self)
    }

    private static let apostrophe = UInt8(ascii: "'")

    /// `=`, `+`, `-`, `@`, tab, carriage return: what makes a spreadsheet read a cell as a formula.
    private static func isFormulaTrigger(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D: true
        default: false
        }
    }

    /// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`
    static func isPlainNumber<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        var index = bytes.startIndex
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            bytes.formIndex(after: &index)
        }
        var mantissaDigits = 0
        while index < bytes.endIndex, isDigit(bytes[index]) { mantissaDigits += 1; bytes.formIndex(after: &index) }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            bytes.formIndex(after: &index)
            while index < bytes.endIndex, isDigit(bytes[index]) { mantissaDigits += 1; bytes.formIndex(after: &index) }
        }
        guard mantissaDigits > 0 else { return false }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            bytes.formIndex(after: &index)
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                bytes.formIndex(after: &index)
            }
            var exponentDigits = 0
            while index < bytes.endIndex, isDigit(bytes[index]) { exponentDigits += 1; bytes.formIndex(after: &index) }
            guard exponentDigits > 0 else { return false }
        }
        return index == bytes.endIndex
    }

    /// `+` followed by 2–15 digits, the first not `0` (ITU-T E.164).
    static func isE164<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        guard bytes.first == UInt8(ascii: "+") else { return false }
        let digits = bytes.dropFirst()
        guard (2...15).contains(digits.count), digits.first != UInt8(ascii: "0") else { return false }
        return digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
