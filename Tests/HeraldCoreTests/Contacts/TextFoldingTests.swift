import HeraldCore
import Testing

@Suite("Case folding of contact text comparisons", .timeLimit(.minutes(10)))
struct TextFoldingTests {
    @Test("lowers every script scalar by scalar, with no context rules", arguments: [
        ("ÉLODIE Müller", "élodie müller"), ("ΣΟΦΙΑΣ", "σοφιασ"), ("İstanbul", "istanbul"), ("ǄEMAL ǅ", "ǆemal ǆ"),
        ("Ⅻ", "ⅻ"), ("ÅSA ØRN", "åsa ørn"), ("ABC-xyz_09 %\\", "abc-xyz_09 %\\"), ("STRASSE ß", "strasse ß"),
        ("E\u{301}", "e\u{301}"), ("", ""), ("😀 ok", "😀 ok"),
    ])
    func fold(input: String, expected: String) {
        #expect(TextFolding.fold(input) == expected)
        var out: [UInt8] = []
        Array(input.utf8).withUnsafeBufferPointer { TextFolding.fold(utf8: $0, into: &out) }
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }
}

@Suite("Custom-field numbers", .timeLimit(.minutes(10)))
struct CustomFieldNumberTests {
    @Test("numbers by the grammar", arguments: [
        ("5", 5.0), ("-2.5e3", -2500), ("+7", 7), ("5.", 5), (".5", 0.5), ("0007", 7), ("1E-2", 0.01), ("1e400", .infinity), ("-1e400", -.infinity),
    ])
    func numbers(text: String, value: Double) {
        #expect(CustomFieldNumber.value(text) == value)
    }

    @Test("everything else is not a number", arguments: [
        "", "-", ".", "+.", "2024-01-02T03:04:05Z", "2024-01-02", "0x10", "1_000", " 5", "5 ", "1e", "1e+", "1e12345", "1.2.3", "NaN", "inf", "١٢", "5e-", "--5",
    ])
    func notNumbers(text: String) {
        #expect(CustomFieldNumber.value(text) == nil)
    }

    /// PostgreSQL applies `postgresPattern`; the same verdicts through Foundation's regex engine.
    @Test("the PostgreSQL pattern draws the same line", arguments: ["5", "-2.5e3", "5.", ".5", "1e400", "2024-01-02", "0x10", "1_000", " 5", "1e12345", "1.2.3", "."])
    func pattern(text: String) throws {
        let regex = try Regex(CustomFieldNumber.postgresPattern)
        #expect((text.wholeMatch(of: regex) != nil) == (CustomFieldNumber.value(text) != nil), "\(text)")
    }
}
