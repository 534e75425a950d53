import Foundation
import Testing

@testable import PhoneNumbers

@Suite("Time zones", .timeLimit(.minutes(10)))
struct TimeZoneTests {
    let kit = PhoneNumberKit.shared

    func zones(_ text: String, _ region: String = "US") throws -> [String] {
        kit.timeZones(for: try kit.parse(text, defaultRegion: region))
    }

    @Test("Geographic numbers use the longest matching prefix")
    func geographic() throws {
        #expect(try zones("+1 212 555 0100") == ["America/New_York"])
        #expect(try zones("+1 202 555 0100") == ["America/New_York"])
        #expect(try zones("+1 604 555 0199") == ["America/Vancouver"])
        #expect(try zones("+44 20 7946 0958") == ["Europe/London"])
        #expect(try zones("+49 30 123456") == ["Europe/Berlin"])
        #expect(try zones("+81 3-1234-5678") == ["Asia/Tokyo"])
        #expect(try zones("+61 2 9876 5432") == ["Australia/Sydney"])
        #expect(try zones("+44 1624 612345") == ["Europe/Isle_of_Man"])
    }

    @Test("Idaho (+1 208) is split between Mountain and Pacific time")
    func idaho() throws {
        #expect(try zones("+1 208 555 0100") == ["America/Boise", "America/Los_Angeles"])
        #expect(try zones("+1 208 343 1234") == ["America/Denver"])
        #expect(try zones("+1 208 746 1234") == ["America/Los_Angeles"])
    }

    @Test("Non-geographic types get the country-level list")
    func countryLevel() throws {
        let tollFree = try zones("+1 800 555 0100")
        #expect(tollFree.count == 42)
        #expect(tollFree.contains("America/New_York") && tollFree.contains("Pacific/Honolulu"))
        #expect(try zones("+1 900 555 0100") == tollFree)
        // Mobile numbers are not geographic in most countries ...
        #expect(try zones("+44 870 123 4567") == ["Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/London"])
        #expect(try zones("+61 412 345 678").count == 8)
        // ... but they are in Brazil, Argentina, Mexico, China and Indonesia.
        #expect(try zones("+55 11 91234-5678") == ["America/Sao_Paulo"])
        #expect(try zones("+86 138 0013 8000") == ["Asia/Shanghai"])
    }

    @Test("Unknown → empty list")
    func unknown() throws {
        #expect(try zones("+800 1234 5678") == [])
        #expect(kit.timeZones(for: PhoneNumber(countryCode: 1, nationalNumber: "2025550100", regionCode: "US", type: .unknown)) == [])
    }
}

@Suite("Metadata", .timeLimit(.minutes(10)))
struct MetadataTests {
    let kit = PhoneNumberKit.shared

    static let resourceURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/PhoneNumbers/Resources/phonenumbers.bin").standardized

    @Test("Data version and regions")
    func version() {
        #expect(kit.dataVersion == "9.0.43")
        #expect(kit.supportedRegions.count == 245)
        #expect(kit.supportedRegions == kit.supportedRegions.sorted())
    }

    @Test("Region codes", arguments: [("US", 1), ("CA", 1), ("GB", 44), ("gb", 44), ("DE", 49), ("JP", 81), ("IM", 44), ("YT", 262), ("BR", 55)])
    func regions(_ region: String, _ cc: Int) {
        #expect(kit.isValidRegion(region))
        #expect(kit.countryCode(forRegion: region) == cc)
    }

    @Test("Unknown regions", arguments: ["ZZ", "", "USA", "001", "U", "1A", "XX"])
    func unknownRegions(_ region: String) {
        #expect(!kit.isValidRegion(region))
        #expect(kit.countryCode(forRegion: region) == nil)
    }

    @Test("Country code → regions")
    func countryCodeRegions() {
        #expect(kit.regionCodes(forCountryCode: 1).first == "US")
        #expect(kit.regionCodes(forCountryCode: 1).contains("CA"))
        #expect(kit.regionCodes(forCountryCode: 44) == ["GB", "GG", "IM", "JE"])
        #expect(kit.regionCodes(forCountryCode: 800) == ["001"])
        #expect(kit.regionCodes(forCountryCode: 999) == [])
        #expect(kit.regionCodes(forCountryCode: -1) == [])
    }

    @Test("Resource is small and loads fast")
    func resource() throws {
        let data = try Data(contentsOf: Self.resourceURL)
        #expect(data.count < 1_500_000)
        let clock = ContinuousClock()
        var store: MetadataStore?
        let elapsed = try clock.measure { store = try MetadataStore(data: data) }
        #if DEBUG
            let limit = Duration.milliseconds(1000)  // unoptimized build; release loads in ~15 ms (see phone-bench)
        #else
            let limit = Duration.milliseconds(50)
        #endif
        #expect(elapsed < limit)
        #expect(store?.version == "9.0.43")
    }

    @Test("NOTICE attributes libphonenumber under Apache-2.0")
    func notice() throws {
        let url = Self.resourceURL.deletingLastPathComponent().appendingPathComponent("NOTICE")
        let text = try String(contentsOf: url, encoding: .utf8)
        for needle in ["libphonenumber", "Google", "Apache License, Version 2.0", "9.0.43"] {
            #expect(text.contains(needle))
        }
    }

    @Test("Corrupt data is rejected")
    func corrupt() {
        #expect(throws: (any Error).self) { try MetadataStore(data: Data("HPN1".utf8)) }
        #expect(throws: (any Error).self) { try MetadataStore(data: Data("nope".utf8)) }
    }
}
