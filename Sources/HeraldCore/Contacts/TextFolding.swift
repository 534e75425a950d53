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

    /// `fold` of UTF-8 bytes, appended to `out`: ASCII text is lowered byte by byte without
    /// building a `String` (the common case, and the one a table scan runs into per row).
    public static func fold(utf8 bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            out.append(contentsOf: bytes.lazy.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 })
        } else {
            out.append(contentsOf: fold(String(decoding: bytes, as: UTF8.self)).utf8)
        }
    }
}
