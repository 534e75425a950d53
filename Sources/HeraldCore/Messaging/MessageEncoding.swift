/// The character set a text message is sent in (DOMAIN.md §1.3, 3GPP TS 23.038 §6.2.1).
///
/// A message is GSM-7 when every character is in the default alphabet or its extension table,
/// otherwise the whole message is UCS-2; there is no per-segment mixing.
public enum MessageEncoding: String, Sendable, Hashable, Codable, CaseIterable {
    /// GSM 03.38 default alphabet, 7-bit septets (3GPP TS 23.038 §6.2.1). SMPP data_coding 0x00.
    case gsm7 = "GSM-7"
    /// UCS-2 / UTF-16, 16-bit code units. SMPP data_coding 0x08.
    case ucs2 = "UCS-2"

    /// Septets or code units that fit in a single, unconcatenated message (140-octet TP-UD,
    /// DOMAIN.md §1.4): 160 for GSM-7, 70 for UCS-2.
    public var singleSegmentLimit: Int {
        switch self {
        case .gsm7: 160
        case .ucs2: 70
        }
    }

    /// Septets or code units per part of a concatenated message with the 6-octet 8-bit-reference
    /// UDH (3GPP TS 23.040 §9.2.3.24.1, DOMAIN.md §1.4): 153 for GSM-7, 67 for UCS-2.
    public var multipartSegmentLimit: Int {
        switch self {
        case .gsm7: 153
        case .ucs2: 67
        }
    }
}
