import Foundation
import Testing

@testable import PhoneNumbers

struct ValidCase: Sendable, CustomTestStringConvertible {
    let input: String
    let region: String
    let e164: String
    let regionCode: String
    let type: PhoneNumberType

    init(_ input: String, _ region: String, _ e164: String, _ regionCode: String, _ type: PhoneNumberType) {
        self.input = input
        self.region = region
        self.e164 = e164
        self.regionCode = regionCode
        self.type = type
    }

    var testDescription: String { "\"\(input)\" [\(region)] → \(e164)" }
}

struct InvalidCase: Sendable, CustomTestStringConvertible {
    let input: String
    let region: String
    let code: PhoneNumberError.Code

    init(_ input: String, _ region: String, _ code: PhoneNumberError.Code) {
        self.input = input
        self.region = region
        self.code = code
    }

    var testDescription: String { "\"\(input)\" [\(region)] ✗ \(code)" }
}

@Suite("Parsing", .timeLimit(.minutes(10)))
struct ParsingTests {
    let kit = PhoneNumberKit.shared

    /// The input forms the CSV importer must understand (US and UK).
    static let requiredForms: [ValidCase] = [
        .init("+1 202-555-0100", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("(202) 555-0100", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("202.555.0100", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("2025550100", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("1 202 555 0100", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("1-202-555-0100", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("+1 (202) 555-0100", "GB", "+12025550100", "US", .fixedLineOrMobile),
        .init("  +1 202 555 0100  ", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("tel:+1-202-555-0100", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("+44 20 7946 0958", "US", "+442079460958", "GB", .fixedLine),
        .init("+44 (0)20 7946 0958", "US", "+442079460958", "GB", .fixedLine),
        .init("020 7946 0958", "GB", "+442079460958", "GB", .fixedLine),
        .init("0044 20 7946 0958", "GB", "+442079460958", "GB", .fixedLine),
        .init("011 44 20 7946 0958", "US", "+442079460958", "GB", .fixedLine),
        .init("44 20 7946 0958", "GB", "+442079460958", "GB", .fixedLine),
        .init("+49 30 123456", "DE", "+4930123456", "DE", .fixedLine),
        .init("030 123456", "DE", "+4930123456", "DE", .fixedLine),
        .init("+49 (0)30 123456", "DE", "+4930123456", "DE", .fixedLine),
        .init("00 49 30 123456", "FR", "+4930123456", "DE", .fixedLine),
        .init("＋１ ２０２ ５５５ ０１００", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("０２０ ７９４６ ０９５８", "GB", "+442079460958", "GB", .fixedLine),
        .init("٠٢٠ ٧٩٤٦ ٠٩٥٨", "GB", "+442079460958", "GB", .fixedLine),
        .init("202–555–0100", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("202/555-0100", "US", "+12025550100", "US", .fixedLineOrMobile),
        .init("[202] 555 0100", "US", "+12025550100", "US", .fixedLineOrMobile),
    ]

    /// International format for many countries (expected values from libphonenumber 9.0.43).
    static let countries: [ValidCase] = [
        .init("+1 212 555 0100", "US", "+12125550100", "US", .fixedLineOrMobile),
        .init("+1 604 555 0199", "US", "+16045550199", "CA", .fixedLineOrMobile),
        .init("+1 (506) 234-5678", "US", "+15062345678", "CA", .fixedLineOrMobile),
        .init("+1 268 464 1234", "US", "+12684641234", "AG", .mobile),
        .init("+1 340 642 1234", "US", "+13406421234", "VI", .fixedLineOrMobile),
        .init("+1 787 234 5678", "US", "+17872345678", "PR", .fixedLineOrMobile),
        .init("+1 876 512 3456", "US", "+18765123456", "JM", .mobile),
        .init("+1 800 555 0100", "US", "+18005550100", "US", .tollFree),
        .init("+1 900 555 0100", "US", "+19005550100", "US", .premiumRate),
        .init("+44 1624 612345", "GB", "+441624612345", "IM", .fixedLine),
        .init("+44 870 123 4567", "GB", "+448701234567", "GB", .premiumRate),
        .init("+44 56 1234 5678", "GB", "+445612345678", "GB", .voip),
        .init("+44 70 1234 5678", "GB", "+447012345678", "GB", .personalNumber),
        .init("+44 76 2345 6789", "GB", "+447623456789", "GB", .pager),
        .init("+7 495 123 45 67", "RU", "+74951234567", "RU", .fixedLine),
        .init("+7 7012345678", "RU", "+77012345678", "KZ", .mobile),
        .init("+20 10 1234 5678", "EG", "+201012345678", "EG", .mobile),
        .init("+27 21 123 4567", "ZA", "+27211234567", "ZA", .fixedLine),
        .init("+30 21 2345 6789", "GR", "+302123456789", "GR", .fixedLine),
        .init("+31 6 12345678", "NL", "+31612345678", "NL", .mobile),
        .init("+32 470 12 34 56", "BE", "+32470123456", "BE", .mobile),
        .init("+33 1 23 45 67 89", "FR", "+33123456789", "FR", .fixedLine),
        .init("+34 612 34 56 78", "ES", "+34612345678", "ES", .mobile),
        .init("+36 1 234 5678", "HU", "+3612345678", "HU", .fixedLine),
        .init("+39 06 1234 5678", "IT", "+390612345678", "IT", .fixedLine),
        .init("+41 44 668 18 00", "CH", "+41446681800", "CH", .fixedLine),
        .init("+43 1 234567890", "AT", "+431234567890", "AT", .fixedLine),
        .init("+45 32 12 34 56", "DK", "+4532123456", "DK", .fixedLineOrMobile),
        .init("+46 8 123 456 78", "SE", "+46812345678", "SE", .fixedLine),
        .init("+47 51 23 45 67", "NO", "+4751234567", "NO", .fixedLine),
        .init("+48 512 345 678", "PL", "+48512345678", "PL", .mobile),
        .init("+51 912 345 678", "PE", "+51912345678", "PE", .mobile),
        .init("+52 55 1234 5678", "MX", "+525512345678", "MX", .fixedLineOrMobile),
        .init("+54 9 11 2345-6789", "AR", "+5491123456789", "AR", .mobile),
        .init("+55 11 91234-5678", "BR", "+5511912345678", "BR", .mobile),
        .init("+56 2 2123 4567", "CL", "+56221234567", "CL", .fixedLineOrMobile),
        .init("+57 321 1234567", "CO", "+573211234567", "CO", .mobile),
        .init("+58 412-1234567", "VE", "+584121234567", "VE", .mobile),
        .init("+60 12-345 6789", "MY", "+60123456789", "MY", .mobile),
        .init("+61 2 9876 5432", "AU", "+61298765432", "AU", .fixedLine),
        .init("+61 412 345 678", "AU", "+61412345678", "AU", .mobile),
        .init("+62 21 1234567", "ID", "+62211234567", "ID", .fixedLine),
        .init("+63 917 123 4567", "PH", "+639171234567", "PH", .mobile),
        .init("+64 21 123 4567", "NZ", "+64211234567", "NZ", .mobile),
        .init("+65 6123 4567", "SG", "+6561234567", "SG", .fixedLine),
        .init("+66 81 234 5678", "TH", "+66812345678", "TH", .mobile),
        .init("+81 3-1234-5678", "JP", "+81312345678", "JP", .fixedLine),
        .init("+82 2-312-3456", "KR", "+8223123456", "KR", .fixedLine),
        .init("+84 91 234 56 78", "VN", "+84912345678", "VN", .mobile),
        .init("+86 138 0013 8000", "CN", "+8613800138000", "CN", .mobile),
        .init("+90 212 345 67 89", "TR", "+902123456789", "TR", .fixedLine),
        .init("+91 98765 43210", "IN", "+919876543210", "IN", .mobile),
        .init("+92 300 1234567", "PK", "+923001234567", "PK", .mobile),
        .init("+212 650-123456", "MA", "+212650123456", "MA", .mobile),
        .init("+234 802 123 4567", "NG", "+2348021234567", "NG", .mobile),
        .init("+254 712 123456", "KE", "+254712123456", "KE", .mobile),
        .init("+262 269 61 1234", "FR", "+262269611234", "YT", .fixedLine),
        .init("+351 912 345 678", "PT", "+351912345678", "PT", .mobile),
        .init("+353 1 234 5678", "IE", "+35312345678", "IE", .fixedLine),
        .init("+358 9 123456", "FI", "+3589123456", "FI", .fixedLine),
        .init("+380 50 123 4567", "UA", "+380501234567", "UA", .mobile),
        .init("+420 601 123 456", "CZ", "+420601123456", "CZ", .mobile),
        .init("+590 690 00 1234", "FR", "+590690001234", "GP", .mobile),
        .init("+852 5123 4567", "HK", "+85251234567", "HK", .mobile),
        .init("+880 1812-345678", "BD", "+8801812345678", "BD", .mobile),
        .init("+966 50 123 4567", "SA", "+966501234567", "SA", .mobile),
        .init("+971 50 123 4567", "AE", "+971501234567", "AE", .mobile),
        .init("+972 50-234-5678", "IL", "+972502345678", "IL", .mobile),
        .init("+800 1234 5678", "US", "+80012345678", "001", .tollFree),
    ]

    /// National formats, including national prefixes and the transform rules (AR, BR, MX, NANP islands, ...).
    static let nationalForms: [ValidCase] = [
        .init("07400 123456", "GB", "+447400123456", "GB", .mobile),
        .init("07911 123456", "GB", "+447911123456", "GG", .mobile),  // libphonenumber: 7911 is a Guernsey mobile range
        .init("01624 612345", "GB", "+441624612345", "IM", .fixedLine),
        .init("01 23 45 67 89", "FR", "+33123456789", "FR", .fixedLine),
        .init("06 12 34 56 78", "FR", "+33612345678", "FR", .mobile),
        .init("030 1234567", "DE", "+49301234567", "DE", .fixedLine),
        .init("06 1234 5678", "IT", "+390612345678", "IT", .fixedLine),
        .init("(02) 9876 5432", "AU", "+61298765432", "AU", .fixedLine),
        .init("0412 345 678", "AU", "+61412345678", "AU", .mobile),
        .init("03-1234-5678", "JP", "+81312345678", "JP", .fixedLine),
        .init("090-1234-5678", "JP", "+819012345678", "JP", .mobile),
        .init("098765 43210", "IN", "+919876543210", "IN", .mobile),
        .init("8 (495) 123-45-67", "RU", "+74951234567", "RU", .fixedLine),
        .init("55 1234 5678", "MX", "+525512345678", "MX", .fixedLineOrMobile),
        .init("011 15-2345-6789", "AR", "+5491123456789", "AR", .mobile),
        .init("011 4321-1234", "AR", "+541143211234", "AR", .fixedLine),
        .init("(11) 91234-5678", "BR", "+5511912345678", "BR", .mobile),
        .init("0 21 11 91234-5678", "BR", "+5511912345678", "BR", .mobile),
        .init("464-1234", "AG", "+12684641234", "AG", .mobile),
        .init("(604) 555-0199", "CA", "+16045550199", "CA", .fixedLineOrMobile),
        .init("(604) 555-0199", "US", "+16045550199", "CA", .fixedLineOrMobile),
        .init("010-1234-5678", "KR", "+821012345678", "KR", .mobile),
        .init("138 0013 8000", "CN", "+8613800138000", "CN", .mobile),
        .init("050 234 5678", "IL", "+972502345678", "IL", .mobile),
    ]

    @Test("Required input forms", arguments: requiredForms)
    func requiredForm(_ c: ValidCase) throws {
        try check(c)
    }

    @Test("International format, many countries", arguments: countries)
    func international(_ c: ValidCase) throws {
        try check(c)
    }

    @Test("National format with national prefixes", arguments: nationalForms)
    func national(_ c: ValidCase) throws {
        try check(c)
    }

    @Test("Same number, every format", arguments: countries.filter { $0.regionCode != "001" })
    func formatsRoundTrip(_ c: ValidCase) throws {
        let n = try kit.parse(c.input, defaultRegion: c.region)
        let digits = String(n.e164.dropFirst())
        // E.164 without punctuation, with another default region.
        #expect(try kit.parse(n.e164, defaultRegion: "ZZ") == n)
        // IDD of the US and of Germany.
        #expect(try kit.parse("011 " + digits, defaultRegion: "US") == n)
        #expect(try kit.parse("00" + digits, defaultRegion: "DE") == n)
        // Bytes API.
        #expect(try kit.parse(Array(c.input.utf8), defaultRegion: c.region) == n)
        #expect(try kit.parse(c.input.utf8, defaultRegion: c.region) == n)
    }

    func check(_ c: ValidCase) throws {
        let n = try kit.parse(c.input, defaultRegion: c.region)
        #expect(n.e164 == c.e164)
        #expect(n.regionCode == c.regionCode)
        #expect(n.type == c.type)
        #expect("+\(n.countryCode)\(n.nationalNumber)" == c.e164)
        #expect(n.nationalNumber.allSatisfy(\.isASCII) && n.nationalNumber.allSatisfy(\.isNumber))
    }

    static let invalid: [InvalidCase] = [
        .init("", "US", .empty),
        .init("   ", "US", .empty),
        .init("abc", "US", .notANumber),
        .init("---", "US", .notANumber),
        .init("1", "US", .notANumber),
        .init("+1", "US", .notANumber),
        .init("+12", "US", .notANumber),
        .init("1-800-FLOWERS", "US", .notANumber),
        .init("202 555 0100 call me", "US", .notANumber),
        .init("202\t555\t0100", "US", .notANumber),
        .init("202-555-0100 / 202-555-0101", "US", .tooLong),
        .init("+999 123 456", "US", .invalidCountryCode),
        .init("+0 202 555 0100", "ZZ", .invalidCountryCode),
        .init("011 999 1234 5678", "US", .invalidCountryCode),
        .init("2025550100", "ZZ", .unknownRegion),
        .init("2025550100", "", .unknownRegion),
        .init("+1 202 555 01", "US", .tooShort),
        .init("555 0100", "US", .invalidNumber),  // possible as a local-only number, so not "too short"
        .init("12", "US", .tooShort),
        .init("011 44", "US", .tooShort),
        .init("+44 20 7946 09581234", "GB", .tooLong),
        .init("202 555 0100 1234", "US", .tooLong),
        .init("1234567890123456789", "US", .tooLong),
        .init("+1 123 555 0100", "US", .invalidNumber),
        .init("+1 202 155 0100", "US", .invalidNumber),
        .init("+44 7700 900123", "GB", .invalidNumber),
        .init("020 7946 095", "GB", .invalidNumber),
    ]

    @Test("Invalid input gives the right error code", arguments: invalid)
    func invalidInput(_ c: InvalidCase) {
        #expect {
            _ = try kit.parse(c.input, defaultRegion: c.region)
        } throws: { error in
            (error as? PhoneNumberError)?.code == c.code
        }
        let bytes = Result { () throws(PhoneNumberError) in try kit.parse(Array(c.input.utf8), defaultRegion: c.region) }
        if case .failure(let e) = bytes {
            #expect(e.code == c.code)
        } else {
            Issue.record("bytes API accepted \(c.input)")
        }
    }

    @Test("Errors carry a readable message")
    func errorMessages() throws {
        let e = try #require(throws: PhoneNumberError.self) { try kit.parse("+1 202 555 01", defaultRegion: "US") }
        #expect(e.code == .tooShort)
        #expect(e.message == "\"+1 202 555 01\" is too short for US numbers")
        let e2 = try #require(throws: PhoneNumberError.self) { try kit.parse("+1 123 555 0100", defaultRegion: "US") }
        #expect(e2.message == "\"+1 123 555 0100\" is not a valid US number")
        let e3 = try #require(throws: PhoneNumberError.self) { try kit.parse("2025550100", defaultRegion: "XX") }
        #expect(e3.code == .unknownRegion)
        #expect(e3.message.contains("XX"))
    }

    @Test("Typed throws: the error type is PhoneNumberError")
    func typedThrows() {
        do {
            _ = try kit.parse("nope", defaultRegion: "US")
            Issue.record("expected an error")
        } catch {
            let code: PhoneNumberError.Code = error.code  // `error` is statically a PhoneNumberError
            #expect(code == .notANumber)
        }
    }

    @Test("Extensions are stripped and ignored",
          arguments: ["202-555-0100 x123", "202-555-0100x123", "202-555-0100 ext. 123", "202-555-0100 ext 123",
                      "202-555-0100, ext. 123", "202-555-0100 extension 123", "202-555-0100 #123", "202-555-0100;ext=123",
                      "(202) 555-0100 EXT:123"])
    func extensions(_ input: String) throws {
        #expect(try kit.parse(input, defaultRegion: "US").e164 == "+12025550100")
    }

    @Test("Letters are rejected, including vanity numbers",
          arguments: ["1-800-FLOWERS", "1800 MICROSOFT", "202-555-0100 y", "202-555-O100", "two 202 555 0100", "202a5550100"])
    func letters(_ input: String) {
        #expect(throws: PhoneNumberError(code: .notANumber, message: "\"\(input)\" is not a phone number")) {
            try kit.parse(input, defaultRegion: "US")
        }
    }

    /// Documented divergence from libphonenumber: it converts vanity letters and skips labels; we reject letters.
    /// (libphonenumber: "1-800-FLOWERS" → +18003569377, "Phone: 202-555-0100" → +12025550100.)
    @Test("Divergence: letters that libphonenumber would accept are rejected",
          arguments: ["1-800-FLOWERS", "Phone: 202-555-0100", "202-555-0100 ex-t. 123", "tel:+1-202-555-0100;phone-context=example.com"])
    func lettersDivergence(_ input: String) {
        #expect(throws: PhoneNumberError.self) { try kit.parse(input, defaultRegion: "US") }
        let error = Result { () throws(PhoneNumberError) in try kit.parse(input, defaultRegion: "US") }
        if case .failure(let e) = error { #expect(e.code == .notANumber) }
    }

    @Test("Extension markers libphonenumber also uses: '~', ',' and ';' followed by digits",
          arguments: [("202-555-0100~12", "+12025550100"), ("202-555-0100,,12", "+12025550100"),
                      ("202-555-0100, 12", "+12025550100"), ("202-555-0100;12", "+12025550100")])
    func punctuationExtensions(_ input: String, _ e164: String) throws {
        #expect(try kit.parse(input, defaultRegion: "US").e164 == e164)
    }

    @Test("National prefix transform rules", arguments: [
        ValidCase("0 11 15 2345-6789", "AR", "+5491123456789", "AR", .mobile),  // 0 + area 11 + 15 → 9 11
        ValidCase("0341 15 234-5678", "AR", "+5493412345678", "AR", .mobile),
        ValidCase("0 15 11 91234-5678", "BR", "+5511912345678", "BR", .mobile),  // carrier code 15 stripped
        ValidCase("90 21 11 91234-5678", "BR", "+5511912345678", "BR", .mobile),
        ValidCase("412-3456", "BB", "+12464123456", "BB", .fixedLine),  // 7-digit local → 246 prepended
        ValidCase("1 246 412 3456", "BB", "+12464123456", "BB", .fixedLine),
    ])
    func transformRules(_ c: ValidCase) throws {
        try check(c)
    }

    @Test("US 555-01XX numbers are valid for libphonenumber (fixedLineOrMobile)")
    func fictionalRange() throws {
        let n = try kit.parse("(202) 555-0123", defaultRegion: "US")
        #expect(n.type == .fixedLineOrMobile)
        #expect(n.isTextable)
    }

    @Test("isTextable by type")
    func textable() throws {
        #expect(try kit.parse("+44 7911 123456", defaultRegion: "GB").isTextable)  // mobile
        #expect(try !kit.parse("+44 20 7946 0958", defaultRegion: "GB").isTextable)  // fixed line
        #expect(try kit.parse("+1 800 555 0100", defaultRegion: "US").isTextable)  // toll free
        #expect(try !kit.parse("+1 900 555 0100", defaultRegion: "US").isTextable)  // premium rate
        #expect(try kit.parse("+44 56 1234 5678", defaultRegion: "GB").isTextable)  // voip
        let all = PhoneNumberType.allCases.filter {
            PhoneNumber(countryCode: 1, nationalNumber: "1", regionCode: "US", type: $0).isTextable
        }
        #expect(Set(all) == [.mobile, .fixedLineOrMobile, .voip, .tollFree, .personalNumber, .pager, .unknown])
    }

    @Test("Default region is case-insensitive")
    func regionCase() throws {
        #expect(try kit.parse("020 7946 0958", defaultRegion: "gb").e164 == "+442079460958")
    }

    @Test("Concurrent parsing from many tasks")
    func concurrent() async {
        let inputs = Self.countries
        let ok = await withTaskGroup(of: Int.self) { group in
            for t in 0..<8 {
                group.addTask {
                    var ok = 0
                    for i in 0..<2000 {
                        let c = inputs[(i + t) % inputs.count]
                        if (try? PhoneNumberKit.shared.parse(c.input, defaultRegion: c.region))?.e164 == c.e164 { ok += 1 }
                    }
                    return ok
                }
            }
            return await group.reduce(0, +)
        }
        #expect(ok == 16_000)
    }

    @Test("PhoneNumber is Hashable and prints as E.164")
    func hashable() throws {
        let a = try kit.parse("+1 202 555 0100", defaultRegion: "US")
        let b = try kit.parse("(202) 555-0100", defaultRegion: "US")
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect("\(a)" == "+12025550100")
    }
}
