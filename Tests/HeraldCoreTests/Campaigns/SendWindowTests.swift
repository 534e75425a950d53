import Foundation
import Testing
@testable import HeraldCore

private func instant(_ text: String) -> Date {
    // Minimal RFC 3339 (UTC, no fraction) parser so tests don't depend on formatter behaviour.
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let numbers = text.split(whereSeparator: { "-T:Z".contains($0) }).map { Int($0)! }
    return calendar.date(from: DateComponents(
        year: numbers[0], month: numbers[1], day: numbers[2], hour: numbers[3], minute: numbers[4]))!
}

private let newYork = TimeZone(identifier: "America/New_York")!
private let losAngeles = TimeZone(identifier: "America/Los_Angeles")!
private let tokyo = TimeZone(identifier: "Asia/Tokyo")!

fileprivate struct WindowCase: Sendable, CustomTestStringConvertible {
    let label: String
    let zones: [String]
    let now: String
    let isOpen: Bool
    let opensAt: String?
    let closesAt: String?
    var testDescription: String { label }
}

private let windowCases: [WindowCase] = [
    // Summer, EDT = UTC−4: 08:00–21:00 local = 12:00Z–01:00Z.
    WindowCase(label: "NY 07:59", zones: ["America/New_York"], now: "2026-06-15T11:59Z", isOpen: false,
               opensAt: "2026-06-15T12:00Z", closesAt: "2026-06-16T01:00Z"),
    WindowCase(label: "NY 08:00", zones: ["America/New_York"], now: "2026-06-15T12:00Z", isOpen: true,
               opensAt: "2026-06-15T12:00Z", closesAt: "2026-06-16T01:00Z"),
    WindowCase(label: "NY 20:59", zones: ["America/New_York"], now: "2026-06-16T00:59Z", isOpen: true,
               opensAt: "2026-06-16T00:59Z", closesAt: "2026-06-16T01:00Z"),
    WindowCase(label: "NY 21:00", zones: ["America/New_York"], now: "2026-06-16T01:00Z", isOpen: false,
               opensAt: "2026-06-16T12:00Z", closesAt: "2026-06-17T01:00Z"),
    // Winter, EST = UTC−5.
    WindowCase(label: "NY winter 12:00", zones: ["America/New_York"], now: "2026-01-15T17:00Z", isOpen: true,
               opensAt: "2026-01-15T17:00Z", closesAt: "2026-01-16T02:00Z"),
    // Spring forward, Sunday 8 March 2026 02:00 EST → 03:00 EDT.
    WindowCase(label: "NY spring-forward night", zones: ["America/New_York"], now: "2026-03-08T07:30Z", isOpen: false,
               opensAt: "2026-03-08T12:00Z", closesAt: "2026-03-09T01:00Z"),
    WindowCase(label: "NY evening before spring-forward", zones: ["America/New_York"], now: "2026-03-08T02:00Z", isOpen: false,
               opensAt: "2026-03-08T12:00Z", closesAt: "2026-03-09T01:00Z"),
    WindowCase(label: "NY spring-forward 07:59 EDT", zones: ["America/New_York"], now: "2026-03-08T11:59Z", isOpen: false,
               opensAt: "2026-03-08T12:00Z", closesAt: "2026-03-09T01:00Z"),
    // Fall back, Sunday 1 November 2026 02:00 EDT → 01:00 EST; 06:30Z is the second 01:30.
    WindowCase(label: "NY fall-back repeated hour", zones: ["America/New_York"], now: "2026-11-01T06:30Z", isOpen: false,
               opensAt: "2026-11-01T13:00Z", closesAt: "2026-11-02T02:00Z"),
    WindowCase(label: "NY fall-back 07:59 EST", zones: ["America/New_York"], now: "2026-11-01T12:59Z", isOpen: false,
               opensAt: "2026-11-01T13:00Z", closesAt: "2026-11-02T02:00Z"),
    WindowCase(label: "NY fall-back 20:59 EST", zones: ["America/New_York"], now: "2026-11-02T01:59Z", isOpen: true,
               opensAt: "2026-11-02T01:59Z", closesAt: "2026-11-02T02:00Z"),
    // Two zones: NY 12:00Z–01:00Z ∩ LA 15:00Z–04:00Z = 15:00Z–01:00Z.
    WindowCase(label: "NY+LA before LA opens", zones: ["America/New_York", "America/Los_Angeles"], now: "2026-06-15T13:00Z",
               isOpen: false, opensAt: "2026-06-15T15:00Z", closesAt: "2026-06-16T01:00Z"),
    WindowCase(label: "NY+LA inside", zones: ["America/Los_Angeles", "America/New_York"], now: "2026-06-15T16:00Z",
               isOpen: true, opensAt: "2026-06-15T16:00Z", closesAt: "2026-06-16T01:00Z"),
    WindowCase(label: "NY+LA after NY closes", zones: ["America/New_York", "America/Los_Angeles"], now: "2026-06-16T02:00Z",
               isOpen: false, opensAt: "2026-06-16T15:00Z", closesAt: "2026-06-17T01:00Z"),
    // NY 12:00Z–01:00Z ∩ Tokyo (UTC+9) 23:00Z–12:00Z = 23:00Z–01:00Z.
    WindowCase(label: "NY+Tokyo", zones: ["America/New_York", "Asia/Tokyo"], now: "2026-06-15T22:00Z",
               isOpen: false, opensAt: "2026-06-15T23:00Z", closesAt: "2026-06-16T01:00Z"),
]

@Suite("Quiet-hour send windows (DOMAIN.md §3.1, 47 CFR §64.1200(c)(1))", .timeLimit(.minutes(10)))
struct SendWindowTests {
    @Test(arguments: windowCases)
    fileprivate func status(_ row: WindowCase) {
        let zones = row.zones.map { TimeZone(identifier: $0)! }
        let status = SendWindow.tcpa.status(at: instant(row.now), in: zones)
        #expect(status == SendWindowStatus(isOpen: row.isOpen, opensAt: row.opensAt.map(instant), closesAt: row.closesAt.map(instant)))
        #expect(SendWindow.tcpa.isOpen(at: instant(row.now), in: zones) == row.isOpen)
    }

    @Test func windowLengthIsLocalAcrossDST() {
        // 13 h of local time on normal, spring-forward and fall-back days alike.
        for day in ["2026-03-08T16:00Z", "2026-11-01T16:00Z", "2026-07-01T16:00Z"] {
            let status = SendWindow.tcpa.status(at: instant(day), in: [newYork])
            #expect(status.isOpen)
            let opened = SendWindow.tcpa.status(at: instant(day).addingTimeInterval(-6 * 3600), in: [newYork])
            let length = status.closesAt!.timeIntervalSince(opened.opensAt!)
            #expect(length == 13 * 3600, "\(day)")
        }
    }

    @Test func stricterStateWindowIntersects() {
        // Florida FTSA 08:00–20:00 with TCPA 08:00–21:00, both in New York time (Miami), summer.
        let florida = SendWindow(start: SendWindowTime(hour: 8, minute: 0)!, end: SendWindowTime(hour: 20, minute: 0)!)
        let status = SendWindow.status(at: instant("2026-06-16T00:30Z"), constraints: [(SendWindow.tcpa, newYork), (florida, newYork)])
        #expect(status == SendWindowStatus(isOpen: false, opensAt: instant("2026-06-16T12:00Z"), closesAt: instant("2026-06-17T00:00Z")))
        #expect(SendWindow.tcpa.status(at: instant("2026-06-15T12:00Z"), in: []).opensAt == nil)
    }

    @Test func audienceOpensWithItsFirstZoneAndClosesWithItsLast() {
        // 03:00Z: 23:00 in New York (closed), 12:00 in Tokyo (open). Tokyo's window runs to 12:00Z,
        // New York's next one 12:00Z–01:00Z: sending goes on until the later close.
        let at = instant("2026-06-15T03:00Z")
        let both = SendWindow.tcpa.audienceStatus(at: at, zoneSets: [[newYork], [tokyo]])
        #expect(both == SendWindowStatus(isOpen: true, opensAt: at, closesAt: instant("2026-06-16T01:00Z")))
        // A recipient whose number may be in either zone needs both open: 23:00Z–01:00Z.
        let either = SendWindow.tcpa.audienceStatus(at: at, zoneSets: [[newYork, tokyo]])
        #expect(either == SendWindowStatus(isOpen: false, opensAt: instant("2026-06-15T23:00Z"), closesAt: instant("2026-06-16T01:00Z")))
        #expect(SendWindow.tcpa.audienceStatus(at: at, zoneSets: [[newYork]]).opensAt == instant("2026-06-15T12:00Z"))
        #expect(SendWindow.tcpa.audienceStatus(at: at, zoneSets: []).opensAt == nil)
    }

    @Test func zonesThatNeverOverlapNeverOpen() {
        let office = SendWindow(start: SendWindowTime(hour: 9, minute: 0)!, end: SendWindowTime(hour: 17, minute: 0)!)
        // NY 13:00Z–21:00Z and Tokyo 00:00Z–08:00Z never intersect.
        let status = office.status(at: instant("2026-06-15T12:00Z"), in: [newYork, tokyo])
        #expect(status == SendWindowStatus(isOpen: false, opensAt: nil, closesAt: nil))
        #expect(office.nextOpening(atOrAfter: instant("2026-06-15T12:00Z"), in: [newYork, tokyo]) == nil)
    }

    @Test(arguments: [("21:00", "08:00"), ("08:00", "08:00")])
    func startNotBeforeEndNeverOpens(_ start: String, _ end: String) {
        let window = SendWindow(start: SendWindowTime(parsing: start)!, end: SendWindowTime(parsing: end)!)
        #expect(window.isEmpty)
        #expect(window.status(at: instant("2026-06-15T16:00Z"), in: [newYork]) == SendWindowStatus(isOpen: false, opensAt: nil, closesAt: nil))
        #expect(throws: ValidationError(field: "quietHours.end", message: "must be later than quietHours.start")) {
            try SendWindow.parse(start: start, end: end)
        }
    }

    @Test(arguments: [
        ("08:00", 8, 0), ("00:00", 0, 0), ("23:59", 23, 59), ("21:30", 21, 30),
    ])
    func parsesTimes(_ text: String, _ hour: Int, _ minute: Int) {
        #expect(SendWindowTime(parsing: text) == SendWindowTime(hour: hour, minute: minute))
        #expect(SendWindowTime(parsing: text)?.description == text)
    }

    @Test(arguments: ["8:00", "24:00", "23:60", "ab:cd", "08:00 ", "0800", "", "08-00", "-1:00"])
    func rejectsMalformedTimes(_ text: String) {
        #expect(SendWindowTime(parsing: text) == nil)
    }

    @Test func parseReportsBothFields() {
        #expect(throws: ValidationError([
            FieldIssue(field: "quietHours.start", message: "must be a time HH:mm (00:00–23:59)"),
            FieldIssue(field: "quietHours.end", message: "must be a time HH:mm (00:00–23:59)"),
        ])) {
            try SendWindow.parse(start: "8am", end: "25:00")
        }
        #expect((try? SendWindow.parse(start: "08:00", end: "21:00")) == SendWindow.tcpa)
    }
}
