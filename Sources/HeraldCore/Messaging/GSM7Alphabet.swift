/// The GSM 03.38 default alphabet and its extension table (3GPP TS 23.038 §6.2.1 and §6.2.1.1,
/// DOMAIN.md §1.1–1.2), with O(1) per-scalar lookups used by the segment counter.
public enum GSM7Alphabet {
    /// The 128 positions of the default alphabet, indexed by septet value. Position 0x1B is ESC,
    /// the escape to the extension table, and is not a character: it is `nil` here.
    public static let basicTable: [Unicode.Scalar?] = {
        let scalars: [UInt32] = [
            0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5,
            0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0x1B, 0xC6, 0xE6, 0xDF, 0xC9,
            0x20, 0x21, 0x22, 0x23, 0xA4, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,
            0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
            0xA1, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F,
            0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7,
            0xBF, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F,
            0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
        ]
        return scalars.enumerated().map { index, value in
            index == 0x1B ? nil : Unicode.Scalar(value)
        }
    }()

    /// The extension table (3GPP TS 23.038 §6.2.1.1): each character is sent as ESC (0x1B)
    /// followed by its code and so costs 2 septets. CR2 (0x0D) and SS2 (0x1B) are reserved
    /// controls, not characters, and are left out.
    public static let extensionTable: [(code: UInt8, scalar: Unicode.Scalar)] = [
        (0x0A, "\u{0C}"), (0x14, "^"), (0x28, "{"), (0x29, "}"), (0x2F, "\\"),
        (0x3C, "["), (0x3D, "~"), (0x3E, "]"), (0x40, "|"), (0x65, "€"),
    ]

    /// Septets needed for each scalar below U+0400 (0 = not in GSM-7). Every GSM-7 character
    /// other than € lies below U+0400, so this table plus one comparison answers every scalar.
    @usableFromInline
    static let lowCostTable: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x400)
        for scalar in basicTable.compactMap({ $0 }) { table[Int(scalar.value)] = 1 }
        for entry in extensionTable where entry.scalar.value < 0x400 { table[Int(entry.scalar.value)] = 2 }
        return table
    }()

    @usableFromInline static let euroSign: UInt32 = 0x20AC

    /// Septets the scalar costs in GSM-7: 1 for the default alphabet, 2 for the extension table
    /// (ESC + code), 0 when the scalar is not representable and forces UCS-2 (DOMAIN.md §1.3).
    @inlinable
    public static func septets(for scalar: Unicode.Scalar) -> Int {
        septets(forScalarValue: scalar.value)
    }

    @inlinable
    static func septets(forScalarValue value: UInt32) -> Int {
        if value < 0x400 { return Int(lowCostTable[Int(value)]) }
        return value == euroSign ? 2 : 0
    }

    /// Whether the scalar can be sent in GSM-7 (default alphabet ∪ extension table).
    @inlinable
    public static func contains(_ scalar: Unicode.Scalar) -> Bool {
        septets(for: scalar) != 0
    }
}
