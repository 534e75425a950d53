import Foundation

/// A local wall-clock time of day, `HH:mm` (API.md §2 `quietHours`).
public struct SendWindowTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int

    public init?(hour: Int, minute: Int) {
        guard (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        self.hour = hour
        self.minute = minute
    }

    /// Parses exactly `HH:mm` (two digits each, 00:00–23:59).
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[2] == UInt8(ascii: ":"),
              bytes.enumerated().allSatisfy({ $0.offset == 2 || (0x30...0x39).contains($0.element) })
        else { return nil }
        let digit = { (i: Int) in Int(bytes[i] - 0x30) }
        self.init(hour: digit(0) * 10 + digit(1), minute: digit(3) * 10 + digit(4))
    }

    public var minutesSinceMidnight: Int { hour * 60 + minute }
    public var description: String {
        (hour < 10 ? "0" : "") + String(hour) + ":" + (minute < 10 ? "0" : "") + String(minute)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.minutesSinceMidnight < rhs.minutesSinceMidnight }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = SendWindowTime(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected HH:mm"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// What `SendWindow.status` answers.
public struct SendWindowStatus: Sendable, Hashable {
    /// Whether sending is allowed at the instant asked about.
    public var isOpen: Bool
    /// When open: the instant asked about. When closed: the next instant the window opens, or
    /// `nil` if it never opens (empty window, or zones whose windows never overlap).
    public var opensAt: Date?
    /// The end of the current window (when open) or of the next one (when closed); `nil` if the
    /// window never opens.
    public var closesAt: Date?
}

/// The daily window in which sending is ALLOWED, in each recipient's local time (API.md §2
/// `quietHours {start: "08:00", end: "21:00"}`; DOMAIN.md §3.1; TCPA 47 CFR §64.1200(c)(1): no
/// solicitation before 08:00 or after 21:00). Start is inclusive, end exclusive: 08:00–21:00
/// allows 08:00:00 up to 20:59:59.
///
/// A number may have several candidate time zones (DOMAIN.md §7): sending is allowed only
/// inside the intersection of all their windows. Local times are turned into instants with a
/// Gregorian `Calendar` in each zone, so DST changes are handled (a spring-forward day is 23 h
/// long, but the window is still 08:00–21:00 local). A window whose start is not before its end
/// never opens (`validate` rejects it; `status` reports it as never open). Pure: the clock is
/// always passed in.
public struct SendWindow: Sendable, Hashable, Codable {
    public var start: SendWindowTime
    public var end: SendWindowTime

    public init(start: SendWindowTime, end: SendWindowTime) {
        self.start = start
        self.end = end
    }

    /// The TCPA window, 08:00–21:00 (47 CFR §64.1200(c)(1)).
    public static let tcpa = SendWindow(start: SendWindowTime(hour: 8, minute: 0)!, end: SendWindowTime(hour: 21, minute: 0)!)

    /// Parses and validates `{start, end}` strings; issues name `<prefix>.start` / `<prefix>.end`.
    public static func parse(start: String, end: String, fieldPrefix: String = "quietHours") throws(ValidationError) -> SendWindow {
        var issues = IssueCollector()
        let parsedStart = SendWindowTime(parsing: start)
        let parsedEnd = SendWindowTime(parsing: end)
        if parsedStart == nil { issues.add("\(fieldPrefix).start", "must be a time HH:mm (00:00–23:59)") }
        if parsedEnd == nil { issues.add("\(fieldPrefix).end", "must be a time HH:mm (00:00–23:59)") }
        if let parsedStart, let parsedEnd, parsedStart >= parsedEnd {
            issues.add("\(fieldPrefix).end", "must be later than \(fieldPrefix).start")
        }
        try issues.throwIfAny()
        return SendWindow(start: parsedStart!, end: parsedEnd!)
    }

    /// Whether the window can ever open (start before end).
    public var isEmpty: Bool { start >= end }

    /// Whether sending is allowed at `now` in every one of `timeZones`, and when the window
    /// opens/closes. An empty `timeZones` list gives "never open": the caller must pass at least
    /// the organization's or campaign's zone.
    public func status(at now: Date, in timeZones: [TimeZone]) -> SendWindowStatus {
        Self.status(at: now, constraints: timeZones.map { (self, $0) })
    }

    /// The window of a whole audience whose recipients have different zones: each element of
    /// `zoneSets` is one kind of recipient (the zones that must all be open for it, as in
    /// `status(at:in:)`). Sending can start at the earliest instant any of them is open, and
    /// goes on until the last of them closes: `opensAt` is that earliest instant (`now` when one
    /// is open now), `closesAt` the latest close; both `nil` when no window ever opens.
    public func audienceStatus(at now: Date, zoneSets: [[TimeZone]]) -> SendWindowStatus {
        let statuses = zoneSets.map { status(at: now, in: $0) }.filter { $0.opensAt != nil }
        guard let opens = statuses.compactMap(\.opensAt).min() else { return SendWindowStatus(isOpen: false, opensAt: nil, closesAt: nil) }
        return SendWindowStatus(isOpen: statuses.contains { $0.isOpen }, opensAt: opens, closesAt: statuses.compactMap(\.closesAt).max())
    }

    /// The intersection of several (window, zone) constraints, e.g. the TCPA window in every
    /// candidate zone of a number plus a stricter state window (Florida 08:00–20:00) in the
    /// zone of that state (DOMAIN.md §3.1 "send only inside the intersection"). Looks 8 days
    /// ahead; `opensAt == nil` means the constraints never overlap in that horizon.
    public static func status(at now: Date, constraints: [(window: SendWindow, zone: TimeZone)]) -> SendWindowStatus {
        let never = SendWindowStatus(isOpen: false, opensAt: nil, closesAt: nil)
        guard let first = constraints.first, constraints.allSatisfy({ !$0.window.isEmpty }) else { return never }
        // Windows from the day before to 8 days after `now`, per constraint, then intersected.
        var intersection = first.window.intervals(around: now, in: first.zone)
        for constraint in constraints.dropFirst() {
            intersection = intersect(intersection, constraint.window.intervals(around: now, in: constraint.zone))
            if intersection.isEmpty { return never }
        }
        for interval in intersection where interval.end > now {
            if interval.start <= now {
                return SendWindowStatus(isOpen: true, opensAt: now, closesAt: interval.end)
            }
            return SendWindowStatus(isOpen: false, opensAt: interval.start, closesAt: interval.end)
        }
        return never
    }

    /// Convenience: whether sending is allowed at `now`.
    public func isOpen(at now: Date, in timeZones: [TimeZone]) -> Bool {
        status(at: now, in: timeZones).isOpen
    }

    /// The earliest instant at or after `now` at which sending is allowed (`now` itself when
    /// open), or `nil` if it never opens.
    public func nextOpening(atOrAfter now: Date, in timeZones: [TimeZone]) -> Date? {
        status(at: now, in: timeZones).opensAt
    }

    private func intervals(around now: Date, in zone: TimeZone) -> [DateInterval] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = calendar.dateComponents([.year, .month, .day], from: now)
        guard let midnight = calendar.date(from: today) else { return [] }
        var result: [DateInterval] = []
        for offset in -1...8 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: midnight) else { continue }
            var components = calendar.dateComponents([.year, .month, .day], from: day)
            components.hour = start.hour
            components.minute = start.minute
            guard let opens = calendar.date(from: components) else { continue }
            components.hour = end.hour
            components.minute = end.minute
            guard let closes = calendar.date(from: components), closes > opens else { continue }
            result.append(DateInterval(start: opens, end: closes))
        }
        return result
    }

    /// Intersection of two sorted lists of disjoint intervals.
    static func intersect(_ a: [DateInterval], _ b: [DateInterval]) -> [DateInterval] {
        var result: [DateInterval] = []
        var i = 0
        var j = 0
        while i < a.count, j < b.count {
            let lower = max(a[i].start, b[j].start)
            let upper = min(a[i].end, b[j].end)
            if lower < upper { result.append(DateInterval(start: lower, end: upper)) }
            if a[i].end < b[j].end { i += 1 } else { j += 1 }
        }
        return result
    }
}
