/// The case folding of every case-insensitive text comparison of contacts (API.md §3: search,
/// the `city` filter, `eq`/`neq`/`in`/`notIn`/`contains`/`startsWith` conditions), the same on
/// both engines: SQLite runs it as the SQL function `herald_fold` (its own `LOWER` and `LIKE`
/// fold only ASCII letters); PostgreSQL's `LOWER` does the same per-character lowering under a
/// UTF-8 `LC_CTYPE`.
public enum TextFolding {
    /// Lowers `text` one Unicode scalar at a time with the scalar's lowercase mapping (its first
    /// scalar where the mapping is longer: `İ` → `i`), with no context rules, so a capital sigma
    /// lowers to `σ` wherever it stands, as PostgreSQL's `LOWER` does.
    public static func fold(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                out.append(scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(UInt8(scalar.value) + 32) : scalar)
            } else if scalar.properties.changesWhenLowercased, let lower = scalar.properties.lowercaseMapping.unicodeScalars.first {
                out.append(lower)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// `fold` of UTF-8 bytes, appended to `out` (what `herald_fold` runs for text that is not
    /// plain ASCII; it lowers ASCII itself without this).
    public static func fold(utf8 bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(contentsOf: fold(String(decoding: bytes, as: UTF8.self)).utf8)
    }
}
