/// The standard contact merge fields (API.md §5.2, seed 000).
public enum StandardMergeField: String, Sendable, Hashable, Codable, CaseIterable {
    case firstName, lastName, email, phone, city, state, zip
}

/// A field a template refers to: one of the seven standard contact fields, or a custom field.
public enum MergeField: Sendable, Hashable {
    case standard(StandardMergeField)
    case custom(String)

    public init(name: String) {
        if let standard = StandardMergeField(rawValue: name) {
            self = .standard(standard)
        } else {
            self = .custom(name)
        }
    }

    /// The name as written in the template (`firstName`, `team`).
    public var name: String {
        switch self {
        case .standard(let field): field.rawValue
        case .custom(let name): name
        }
    }
}

/// Gives the values of merge fields for one recipient. Conform a contact row to this directly so
/// rendering builds no dictionary per recipient. `nil`, empty and whitespace-only values all
/// count as missing (the field's default, if any, is used).
public protocol MergeFieldValues {
    func value(for field: StandardMergeField) -> String?
    func customValue(named name: String) -> String?
}

/// Merge-field values held in dictionaries, for test sends (`mergeFields: {firstName: "Alex"}`)
/// and tests. Keys are field names; standard names go to the standard fields.
public struct MergeFieldDictionary: MergeFieldValues, Sendable, Hashable {
    public var values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    public func value(for field: StandardMergeField) -> String? { values[field.rawValue] }
    public func customValue(named name: String) -> String? { values[name] }
}

/// A message body with merge fields, compiled once and rendered per recipient
/// (API.md §5.2 `message`).
///
/// Syntax: `{{name}}` or `{{name|default}}`, with optional whitespace inside the braces
/// (`{{ firstName | there }}`). `name` is an identifier (`[A-Za-z_][A-Za-z0-9_]*`); the default
/// is any text without `{` or `}`, trimmed of surrounding whitespace, used when the value is
/// missing, empty or whitespace-only. Without a default a missing value renders as "".
///
/// "No surprises": anything that is not a well-formed merge field stays literal text exactly as
/// written — a lone `{` or `}`, an unclosed `{{`, `{{}}`, `{{ has space }}`, JSON, and tripled
/// braces `{{{x}}}` (a field's `{{` must not follow another `{` and its `}}` must not be followed
/// by another `}`).
public struct MessageTemplate: Sendable, Hashable {
    public enum Piece: Sendable, Hashable {
        case literal(String)
        case field(MergeField, default: String?)
    }

    /// The source text.
    public let source: String
    /// The compiled pieces, in order. Adjacent literals are merged.
    public let pieces: [Piece]
    private let literalLength: Int
    private let fieldCount: Int

    public init(parsing source: String) {
        self.source = source
        var pieces: [Piece] = []
        let bytes = Array(source.utf8)
        var literalStart = 0
        var index = 0
        func flushLiteral(upTo end: Int) {
            guard end > literalStart else { return }
            let text = String(decoding: bytes[literalStart..<end], as: UTF8.self)
            if case .literal(let previous)? = pieces.last {
                pieces[pieces.count - 1] = .literal(previous + text)
            } else {
                pieces.append(.literal(text))
            }
        }
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "{"), bytes[index + 1] == UInt8(ascii: "{"),
               index == 0 || bytes[index - 1] != UInt8(ascii: "{"),
               let (piece, end) = Self.parseField(bytes, openingAt: index) {
                flushLiteral(upTo: index)
                pieces.append(piece)
                index = end
                literalStart = end
            } else {
                index += 1
            }
        }
        flushLiteral(upTo: bytes.count)
        self.pieces = pieces
        self.fieldCount = pieces.reduce(0) { count, piece in
            if case .field = piece { return count + 1 }
            return count
        }
        self.literalLength = pieces.reduce(0) { total, piece in
            if case .literal(let text) = piece { return total + text.utf8.count }
            return total
        }
    }

    /// Parses `{{ name | default }}` at `start`; returns the piece and the index after `}}`.
    private static func parseField(_ bytes: [UInt8], openingAt start: Int) -> (Piece, Int)? {
        var index = start + 2
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        let nameStart = index
        guard index < bytes.count, isIdentifierHead(bytes[index]) else { return nil }
        while index < bytes.count, isIdentifierHead(bytes[index]) || (0x30...0x39).contains(bytes[index]) {
            index += 1
        }
        let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        var defaultValue: String?
        if index < bytes.count, bytes[index] == UInt8(ascii: "|") {
            index += 1
            let defaultStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "}"), bytes[index] != UInt8(ascii: "{") {
                index += 1
            }
            defaultValue = MessagingText.trimmingWhitespace(String(decoding: bytes[defaultStart..<index], as: UTF8.self))
        }
        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "}"), bytes[index + 1] == UInt8(ascii: "}")
        else { return nil }
        let end = index + 2
        if end < bytes.count, bytes[end] == UInt8(ascii: "}") { return nil }
        return (.field(MergeField(name: name), default: defaultValue), end)
    }

    private static func isIdentifierHead(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
    }

    /// Every field referenced, unique, in order of first appearance.
    public var referencedFields: [MergeField] {
        var seen = Set<MergeField>()
        var result: [MergeField] = []
        for case .field(let field, _) in pieces where seen.insert(field).inserted {
            result.append(field)
        }
        return result
    }

    /// Names of every referenced field (`firstName`, `team`), unique, in order of first appearance.
    public var referencedFieldNames: [String] { referencedFields.map(\.name) }

    /// Whether the template has any merge field (if not, every recipient gets `source`).
    public var hasFields: Bool {
        pieces.contains { if case .field = $0 { true } else { false } }
    }

    /// Names of referenced custom fields that are not in `knownCustomFields`, in order of first
    /// appearance. Standard fields are always known. An unknown field is a 422 at launch
    /// (API.md §5.2).
    public func unknownFieldNames(knownCustomFields: Set<String>) -> [String] {
        referencedFields.compactMap { field in
            if case .custom(let name) = field, !knownCustomFields.contains(name) { return name }
            return nil
        }
    }

    /// Renders the template for one recipient.
    ///
    /// Copies UTF-8 bytes into one pre-sized string buffer (a single allocation), looking each
    /// value up once through `values`; falls back to `renderSlow` when values are longer than the
    /// buffer allows for.
    public func render(with values: some MergeFieldValues) -> String {
        if fieldCount == 0 { return source }
        let rendered = String(unsafeUninitializedCapacity: literalLength + 32 * fieldCount) { buffer in
            var written = 0
            for piece in pieces {
                let text: String
                switch piece {
                case .literal(let literal):
                    text = literal
                case .field(let field, let defaultValue):
                    let value: String? = switch field {
                    case .standard(let standard): values.value(for: standard)
                    case .custom(let name): values.customValue(named: name)
                    }
                    if let value, !MessagingText.isBlank(value) {
                        text = value
                    } else {
                        text = defaultValue ?? ""
                    }
                }
                guard let next = Self.copyUTF8(text, into: buffer, at: written) else { return 0 }
                written = next
            }
            return written
        }
        // Empty means either overflow or a genuinely empty result; the slow path handles both.
        return rendered.isEmpty ? renderSlow(with: values) : rendered
    }

    /// Copies `text`'s UTF-8 into `buffer` at `offset`; the new offset, or `nil` if it does not fit.
    @inline(__always)
    private static func copyUTF8(_ text: String, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> Int? {
        var text = text
        return text.withUTF8 { bytes -> Int? in
            let count = bytes.count
            guard count <= buffer.count - offset else { return nil }
            if count > 0 { (buffer.baseAddress! + offset).update(from: bytes.baseAddress!, count: count) }
            return offset + count
        }
    }

    /// The straightforward renderer, used when values do not fit the pre-sized buffer.
    func renderSlow(with values: some MergeFieldValues) -> String {
        var output = ""
        output.reserveCapacity(literalLength + 64 * fieldCount)
        for piece in pieces {
            switch piece {
            case .literal(let text):
                output.append(text)
            case .field(let field, let defaultValue):
                let value: String? = switch field {
                case .standard(let standard): values.value(for: standard)
                case .custom(let name): values.customValue(named: name)
                }
                if let value, !MessagingText.isBlank(value) {
                    output.append(value)
                } else if let defaultValue {
                    output.append(defaultValue)
                }
            }
        }
        return output
    }

}

/// Small text helpers shared by Messaging and Campaigns (namespaced to avoid clashes).
enum MessagingText {
    /// True for the empty string and strings of only whitespace and newlines.
    @inline(__always)
    static func isBlank(_ text: String) -> Bool {
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x20, 0x09...0x0D: continue
            case 0x21..<0x80: return false
            default: if !scalar.properties.isWhitespace { return false }
            }
        }
        return true
    }

    static func trimmingWhitespace(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
