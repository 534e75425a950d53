import Foundation
import PhoneNumbers

/// Realistic, deterministic contact data: names, emails, US phones, skewed states and tags.
struct DataGenerator {
    static let firstNames = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
                             "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
                             "Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
                             "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
                             "Kenneth", "Dorothy", "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Edward", "Deborah",
                             "Ronald", "Stephanie", "Timothy", "Rebecca", "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia",
                             "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Shirley", "Eric", "Angela", "Jonathan", "Helen",
                             "Stephen", "Anna", "Larry", "Brenda", "Justin", "Pamela", "Scott", "Nicole", "Brandon", "Emma",
                             "José", "Zoë", "Renée", "François", "Siobhán", "Øyvind", "Łukasz", "Mónica", "Chloé", "Björn"]
    static let lastNames: [String] = {
        let roots = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
                     "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
                     "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
                     "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
                     "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts"]
        let suffixes = ["", "son", "ley", "ton", "er", "man", "field", "wood", "berg", "stein"]
        return roots.flatMap { r in suffixes.map { r + $0 } }
    }()
    static let states = ["CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ", "VA", "WA", "AZ", "MA", "TN", "IN", "MD",
                         "MO", "WI", "CO", "MN", "SC", "AL", "LA", "KY", "OR", "OK", "CT", "UT", "IA", "NV", "AR", "MS", "KS", "NM",
                         "NE", "ID", "WV", "HI", "NH", "ME", "RI", "MT", "DE", "SD", "ND", "AK", "VT", "WY"]
    static let cities = ["Springfield", "Riverside", "Franklin", "Greenville", "Bristol", "Clinton", "Fairview", "Salem", "Madison",
                         "Georgetown", "Arlington", "Ashland", "Burlington", "Manchester", "Oxford", "Jackson", "Milton", "Newport"]
    static let tags: [String] = ["customer", "newsletter", "vip", "lead", "prospect", "event-2024", "event-2025", "webinar", "trial",
                                 "churned", "partner", "wholesale", "retail", "promo-spring", "promo-summer", "promo-fall",
                                 "promo-winter", "referral", "beta", "loyalty", "gold", "silver", "bronze", "student", "teacher",
                                 "volunteer", "donor", "member", "alumni", "staff", "north", "south", "east", "west", "central",
                                 "sms-only", "email-only", "spanish", "french", "german", "black-friday", "cyber-monday",
                                 "holiday", "birthday-club", "reactivated", "high-value", "low-engagement", "survey", "contest",
                                 "app-user"]
    static let tiers = ["bronze", "silver", "gold", "platinum"]
    static let areaCodes = [201, 202, 206, 212, 213, 214, 305, 312, 404, 415, 503, 512, 602, 617, 702, 713, 718, 720, 805, 917]
    static let tagWeights = zipfCumulative(tags.count)
    static let stateWeights = zipfCumulative(states.count)

    var rng: SplitMix64
    var nextPhone = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// The `n`th candidate phone in national format (unique per `n`).
    static func phoneText(_ n: Int, style: Int) -> String {
        let area = areaCodes[n % areaCodes.count]
        let rest = n / areaCodes.count
        var exchange = 201 + (rest / 10000) % 790
        if exchange % 100 == 11 || exchange == 555 { exchange += 1 }
        let line = rest % 10000
        let l = String(format: "%04d", line)
        switch style % 4 {
        case 0: return "(\(area)) \(exchange)-\(l)"
        case 1: return "\(area)-\(exchange)-\(l)"
        case 2: return "+1 \(area) \(exchange) \(l)"
        default: return "\(area)\(exchange)\(l)"
        }
    }

    /// A unique phone that the importer accepts, and its E.164 form.
    mutating func validPhone() -> (text: String, e164: String) {
        while true {
            let n = nextPhone
            nextPhone += 1
            let text = Self.phoneText(n, style: rng.below(4))
            if let parsed = try? PhoneNumberKit.shared.parse(text, defaultRegion: "US") {
                return (text, parsed.e164)
            }
        }
    }

    struct Person {
        var first: String
        var last: String
        var email: String
        var city: String
        var state: String
        var zip: String
        var tags: [String]
        var tier: String
    }

    mutating func person(_ i: Int) -> Person {
        let first = Self.firstNames[rng.below(Self.firstNames.count)]
        let last = Self.lastNames[rng.below(Self.lastNames.count)]
        let ascii = { (s: String) in s.folding(options: [.diacriticInsensitive], locale: nil).lowercased() }
        let email = "\(ascii(first)).\(ascii(last))\(i)@example.com"
        var tags: [String] = []
        for _ in 0..<(1 + rng.below(4)) {
            let t = Self.tags[rng.skewed(Self.tagWeights)]
            if !tags.contains(t) { tags.append(t) }
        }
        return Person(first: first, last: last, email: email, city: Self.cities[rng.below(Self.cities.count)],
                      state: Self.states[rng.skewed(Self.stateWeights)], zip: String(format: "%05d", 10000 + rng.below(89999)),
                      tags: tags, tier: Self.tiers[rng.below(Self.tiers.count)])
    }
}

/// The import benchmark's CSV with exactly known outcomes.
struct ImportFile {
    /// Rows whose phone is invalid (`i % 100 == 50`).
    var invalid = 0
    /// Exact copies of an earlier row (`i % 100 == 99` copies row `i - 37`).
    var duplicates = 0
    /// Rows whose phone already exists before the import (`i % 100 == 7`); their E.164 phones are
    /// written to `seedPath`.
    var merged = 0
    var created = 0
    var total = 0

    static let header = "phone,firstName,lastName,email,city,state,zip,tags,loyaltyTier\n"

    /// Writes `rows` data rows to `path`, and the phones to pre-create to `seedPath`.
    static func write(rows: Int, path: String, seedPath: String) throws -> ImportFile {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        _ = FileManager.default.createFile(atPath: seedPath, contents: nil)
        guard let out = FileHandle(forWritingAtPath: path), let seeds = FileHandle(forWritingAtPath: seedPath) else {
            throw BenchError("cannot write \(path)")
        }
        defer { try? out.close(); try? seeds.close() }
        var gen = DataGenerator(seed: 42)
        var file = ImportFile()
        var buffer = ImportFile.header
        var seedBuffer = ""
        var recent: [Int: String] = [:]
        for i in 0..<rows {
            let line: String
            if i % 100 == 99 && i >= 37, let earlier = recent[i - 37] {
                line = earlier
                file.duplicates += 1
            } else if i % 100 == 50 {
                let p = gen.person(i)
                line = "555-01\(i % 10),\(p.first),\(p.last),\(p.email),\(p.city),\(p.state),\(p.zip),\(p.tags.joined(separator: ";")),\(p.tier)\n"
                file.invalid += 1
            } else {
                let phone = gen.validPhone()
                let p = gen.person(i)
                line = "\"\(phone.text)\",\(p.first),\(p.last),\(p.email),\(p.city),\(p.state),\(p.zip),\(p.tags.joined(separator: ";")),\(p.tier)\n"
                if i % 100 == 7 {
                    file.merged += 1
                    seedBuffer += phone.e164 + "\n"
                } else {
                    file.created += 1
                }
            }
            recent[i] = line
            recent[i - 100] = nil
            buffer += line
            if buffer.utf8.count > 1 << 20 {
                out.write(Data(buffer.utf8))
                buffer = ""
            }
        }
        out.write(Data(buffer.utf8))
        seeds.write(Data(seedBuffer.utf8))
        file.total = rows
        return file
    }
}
