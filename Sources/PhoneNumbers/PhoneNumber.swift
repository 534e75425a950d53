/// The kind of service a phone number belongs to, as classified by libphonenumber's metadata.
public enum PhoneNumberType: String, Sendable, Codable, CaseIterable {
    /// A geographic fixed-line (landline) number.
    case fixedLine
    /// A mobile (cellular) number.
    case mobile
    /// A number that the numbering plan does not allow to tell apart between fixed-line and mobile (e.g. the US).
    case fixedLineOrMobile
    /// A freephone number, free of charge to the caller.
    case tollFree
    /// A premium-rate number, charged above the normal rate.
    case premiumRate
    /// A shared-cost number, where the cost is split between caller and recipient.
    case sharedCost
    /// A voice-over-IP number.
    case voip
    /// A personal number, routed to a destination of the subscriber's choosing.
    case personalNumber
    /// A pager number.
    case pager
    /// A "universal access number" (company number routed to a location-dependent destination).
    case uan
    /// A number that connects directly to a voicemail system.
    case voicemail
    /// The number matches the general numbering plan of its region but no specific type pattern.
    case unknown
}

/// A parsed and validated phone number in canonical (E.164) form.
public struct PhoneNumber: Sendable, Hashable {
    /// The country calling code, e.g. `1` for NANP numbers or `44` for the UK.
    public let countryCode: Int
    /// The national significant number: digits only, without the national (trunk) prefix, e.g. `"2025550100"`.
    /// Leading zeros that are part of the number (e.g. Italian fixed lines) are kept.
    public let nationalNumber: String
    /// The ISO 3166-1 alpha-2 region the number belongs to (`"US"`, `"CA"`, ...). For country calling codes
    /// shared by several regions this is the region whose patterns match; for non-geographic country
    /// calling codes (e.g. +800) it is `"001"`.
    public let regionCode: String
    /// The number's type according to libphonenumber's patterns.
    public let type: PhoneNumberType

    /// Creates a phone number from already-validated components (no validation is performed).
    public init(countryCode: Int, nationalNumber: String, regionCode: String, type: PhoneNumberType) {
        self.countryCode = countryCode
        self.nationalNumber = nationalNumber
        self.regionCode = regionCode
        self.type = type
    }

    /// The number in E.164 format, e.g. `"+12025550100"`.
    public var e164: String { "+\(countryCode)\(nationalNumber)" }

    /// Whether the number can plausibly receive SMS: a valid number of type mobile, fixedLineOrMobile, voip,
    /// tollFree, personalNumber, pager or unknown; false for fixedLine, premiumRate, sharedCost, uan and voicemail.
    public var isTextable: Bool {
        switch type {
        case .mobile, .fixedLineOrMobile, .voip, .tollFree, .personalNumber, .pager, .unknown:
            return true
        case .fixedLine, .premiumRate, .sharedCost, .uan, .voicemail:
            return false
        }
    }
}

extension PhoneNumber: CustomStringConvertible {
    /// The E.164 form of the number.
    public var description: String { e164 }
}

/// The reason a text could not be parsed into a valid phone number.
public struct PhoneNumberError: Error, Sendable, Hashable {
    /// The category of a parse failure.
    public enum Code: String, Sendable {
        /// The input was empty or only whitespace.
        case empty
        /// The input does not look like a phone number (letters, too few digits, stray symbols).
        case notANumber
        /// The number starts with `+` or an international prefix followed by an unknown country calling code.
        case invalidCountryCode
        /// The number has fewer digits than any number of its region.
        case tooShort
        /// The number has more digits than any number of its region.
        case tooLong
        /// The number has a plausible length but does not match any number pattern of its region.
        case invalidNumber
        /// The number is in national format and the default region is not a known region code.
        case unknownRegion
    }

    /// The category of the failure.
    public let code: Code
    /// A human-readable sentence describing the failure, e.g. `"+1 202 555 01" is too short for US numbers`.
    public let message: String

    /// Creates an error with a code and a human-readable message.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }
}

extension PhoneNumberError: CustomStringConvertible {
    /// The human-readable message.
    public var description: String { message }
}
