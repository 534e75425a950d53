import Foundation
import Testing

@testable import PhoneNumbers

/// One line of Fixtures/conformance.tsv (written by scripts/phonenumbers/make_fixture.py from libphonenumber).
struct ConformanceCase: Sendable, CustomTestStringConvertible {
    enum Expected: Sendable, Equatable {
        case valid(e164: String, type: String, region: String, timeZones: [String])
        case invalid(code: String)
    }

    let input: String
    let defaultRegion: String
    let expected: Expected
    var testDescription: String { "\(input) [\(defaultRegion)]" }
}

enum ConformanceFixture {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/conformance.tsv")

    /// All cases, parsed once.
    static let cases: [ConformanceCase] = {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        var zones: [Int: [String]] = [:]
        var result: [ConformanceCase] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f[0] == "#tz" {
                zones[Int(f[1])!] = f[2].split(separator: "|").map(String.init)
                continue
            }
            if f[0] == "#version" { continue }  // inputs never contain letters, so "#tz"/"#version" are headers
            if f[2] == "ok" {
                let tz = Int(f[6])!
                result.append(ConformanceCase(input: f[0], defaultRegion: f[1], expected: .valid(
                    e164: f[3], type: f[4], region: f[5], timeZones: tz < 0 ? [] : zones[tz]!)))
            } else {
                result.append(ConformanceCase(input: f[0], defaultRegion: f[1], expected: .invalid(code: f[3])))
            }
        }
        return result
    }()

    static func actual(_ c: ConformanceCase, kit: PhoneNumberKit) -> ConformanceCase.Expected {
        do {
            let n = try kit.parse(c.input, defaultRegion: c.defaultRegion)
            return .valid(e164: n.e164, type: n.type.rawValue, region: n.regionCode, timeZones: kit.timeZones(for: n))
        } catch {
            return .invalid(code: error.code.rawValue)
        }
    }
}

@Suite("Conformance with libphonenumber", .timeLimit(.minutes(10)))
struct ConformanceTests {
    let kit = PhoneNumberKit.shared

    @Test("Fixture is present and large")
    func fixtureSize() throws {
        let cases = ConformanceFixture.cases
        #expect(cases.count >= 20_000)
        let regions = Set(cases.compactMap { c -> String? in
            if case .valid(_, _, let region, _) = c.expected { return region }
            return nil
        })
        // Every supported region (and the non-geographic "001") has at least one valid example, except
        // EH and MF: libphonenumber attributes their example numbers to MA and GP (same country code, listed
        // first, no leading-digits rule), and so do we.
        let missing = Set(kit.supportedRegions).subtracting(regions)
        #expect(missing == ["EH", "MF"])
        #expect(regions.contains("001"))
    }

    @Test("Every fixture case agrees with libphonenumber (parse, validity, error code, E.164, type, region, time zones)")
    func allCasesAgree() throws {
        let cases = ConformanceFixture.cases
        try #require(!cases.isEmpty, "missing fixture \(ConformanceFixture.url.path)")
        var mismatches: [String] = []
        for c in cases {
            let got = ConformanceFixture.actual(c, kit: kit)
            if got != c.expected {
                mismatches.append("\(c.input)\t\(c.defaultRegion)\texpected \(c.expected)\tgot \(got)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) disagree:\n\(mismatches.prefix(40).joined(separator: "\n"))")
    }

    @Test("Byte-level parsing agrees with String parsing on the fixture")
    func bytesAgreeWithString() throws {
        for c in ConformanceFixture.cases.prefix(5000) {
            let a = Result { () throws(PhoneNumberError) in try kit.parse(c.input, defaultRegion: c.defaultRegion) }
            let b = Result { () throws(PhoneNumberError) in try kit.parse(Array(c.input.utf8), defaultRegion: c.defaultRegion) }
            #expect(a == b, "\(c.input)")
        }
    }
}
