import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import Logging

/// Herald's settings. Precedence (ARCHITECTURE.md "Configuration"): command line, then
/// `HERALD_*` environment, then the JSON config file, then defaults. Secrets in the file may be
/// written `"${ENV_NAME}"`; they are never logged.
///
/// `load(flags:environment:configFile:)` reads and validates every source with the same rules
/// (see `Setting`) and reports every bad value at once.
public struct HeraldConfiguration: Sendable {
    public enum Role: String, Sendable, CaseIterable { case all, api, worker }

    /// One configured provider (API.md §8). Settings other than `type` are kept as given.
    public struct Provider: Sendable {
        public var name: String
        public var type: String
        public var settings: [String: String]
    }

    public var host = "127.0.0.1"
    public var port = 8080
    /// The database (`--database`, `HERALD_DATABASE_URL`, `database`).
    public var database: DatabaseLocation = .sqlite(path: "herald.db")
    public var role: Role = .all
    public var publicURL: String?
    public var bootstrapAPIKey: String?
    /// Requests per second per API key. Loaded configuration holds whole numbers of at least 1;
    /// code may set any positive rate.
    public var rateLimitPerSecond: Double = 100
    /// The bucket size per API key (see `rateLimitPerSecond`).
    public var rateLimitBurst: Double = 200
    public var dataDirectory = "herald-data"
    /// The log level (`HERALD_LOG_LEVEL`, `logLevel`); `debug` adds an access line per request.
    public var logLevel: Logger.Level = .info
    public var providers: [String: Provider] = ["simulator": Provider(name: "simulator", type: "simulator", settings: [:])]
    /// Delivery engine settings (`maxRunningCampaigns`, `batchSize` in the config file).
    public var delivery = DeliveryConfiguration()

    public init() {}

    public var publicBaseURL: String { publicURL ?? "http://\(host):\(port)" }
}

// MARK: - Loading and validation

extension HeraldConfiguration {
    /// A setting that can be given on the command line, in the environment or in the config
    /// file. Each has one rule, applied to every source.
    public enum Setting: String, Sendable, CaseIterable {
        case host, port, database, role, publicURL, bootstrapAPIKey, dataDirectory
        case rateLimitPerSecond, rateLimitBurst, maxRunningCampaigns, batchSize, logLevel

        /// The command-line flag (`herald serve`), if there is one.
        public var flag: String? {
            switch self {
            case .host: "--host"
            case .port: "--port"
            case .database: "--database"
            case .role: "--role"
            case .publicURL: "--public-url"
            default: nil
            }
        }

        /// The environment variable, if there is one.
        public var environmentVariable: String? {
            switch self {
            case .host: "HERALD_HOST"
            case .port: "HERALD_PORT"
            case .database: "HERALD_DATABASE_URL"
            case .publicURL: "HERALD_PUBLIC_URL"
            case .bootstrapAPIKey: "HERALD_BOOTSTRAP_API_KEY"
            case .dataDirectory: "HERALD_DATA_DIR"
            case .rateLimitPerSecond: "HERALD_RATE_LIMIT"
            case .rateLimitBurst: "HERALD_RATE_LIMIT_BURST"
            case .logLevel: "HERALD_LOG_LEVEL"
            case .role, .maxRunningCampaigns, .batchSize: nil
            }
        }

        /// The config-file key path (`["rateLimit", "perSecond"]`), if the file may set it.
        public var fileKey: [String]? {
            switch self {
            case .host: ["host"]
            case .port: ["port"]
            case .database: ["database"]
            case .role: ["role"]
            case .publicURL: ["publicUrl"]
            case .bootstrapAPIKey: nil
            case .dataDirectory: ["dataDirectory"]
            case .rateLimitPerSecond: ["rateLimit", "perSecond"]
            case .rateLimitBurst: ["rateLimit", "burst"]
            case .maxRunningCampaigns: ["maxRunningCampaigns"]
            case .batchSize: ["batchSize"]
            case .logLevel: ["logLevel"]
            }
        }

        /// Whether the value is a secret, never repeated in messages.
        var isSecret: Bool { self == .database || self == .bootstrapAPIKey }
    }

    /// Largest accepted port, rate and burst, campaigns at once and batch size.
    public static let portRange = 1...65535
    public static let rateLimitRange = 1...1_000_000
    public static let maxRunningCampaignsRange = 1...10_000
    public static let batchSizeRange = 1...10_000

    /// Every bad setting found while loading, from every source.
    public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
        /// One bad value.
        public struct Problem: Sendable, Hashable, CustomStringConvertible {
            /// Where it came from: `--port`, `HERALD_PORT`, `"port" in herald.json`, or the file.
            public var source: String
            /// What is wrong with it.
            public var message: String

            public init(source: String, message: String) {
                self.source = source
                self.message = message
            }

            public var description: String { "\(source): \(message)" }
        }

        public var problems: [Problem]

        public init(problems: [Problem]) {
            self.problems = problems
        }

        public var description: String {
            if problems.count == 1 { return "invalid configuration: \(problems[0])" }
            return "invalid configuration (\(problems.count) problems):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
        }
    }

    /// Reads the config file (if any), the `HERALD_*` variables of `environment` and the
    /// command-line `flags`, validates every value from every source by the setting's rule, and
    /// applies them over the defaults with precedence flag > environment > file.
    ///
    /// Rules: ports and counts are whole numbers within `portRange`, `rateLimitRange`,
    /// `maxRunningCampaignsRange` and `batchSizeRange` (`"8080"` in the file is a string, not a
    /// number); the database URL must be `sqlite:`, a path or `postgres://…`; the public URL an
    /// absolute http(s) URL; text settings must not be empty; an unknown config-file key is an
    /// error. An empty environment variable counts as unset; so does `null` in the file. A
    /// `"${NAME}"` string in the file takes the value of the environment variable `NAME`, which
    /// must be set.
    /// - Throws: `ConfigurationError` listing every bad value.
    public static func load(flags: [Setting: String] = [:], environment: [String: String],
                            configFile: String? = nil) throws(ConfigurationError) -> HeraldConfiguration {
        var configuration = HeraldConfiguration()
        var problems: [ConfigurationError.Problem] = []
        // Lowest precedence first: later values replace earlier ones.
        var values: [(Setting, source: String, value: RawValue)] = []
        if let configFile {
            let file = ConfigFile.read(configFile, environment: environment)
            values += file.values
            problems += file.problems
            for (name, provider) in file.providers { configuration.providers[name] = provider }
        }
        for setting in Setting.allCases {
            if let name = setting.environmentVariable, let v = environment[name], !v.isEmpty {
                values.append((setting, name, .text(v)))
            }
        }
        for setting in Setting.allCases {
            if let v = flags[setting] { values.append((setting, setting.flag ?? setting.rawValue, .text(v))) }
        }
        for (setting, source, value) in values {
            do throws(Invalid) {
                try configuration.set(setting, value)
            } catch {
                problems.append(.init(source: source, message: error.message + Self.got(value, secret: setting.isSecret)))
            }
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        return configuration
    }

    /// A setting's value as given: text from a flag or variable, JSON from the file.
    enum RawValue {
        case text(String)
        case json(JSON)
    }

    struct Invalid: Error {
        var message: String
    }

    private mutating func set(_ setting: Setting, _ value: RawValue) throws(Invalid) {
        switch setting {
        case .host: host = try Self.text(value)
        case .port: port = try Self.integer(value, Self.portRange)
        case .database:
            let url = try Self.text(value)
            do throws(DatabaseLocation.InvalidURL) { database = try DatabaseLocation(url: url) } catch { throw Invalid(message: error.description) }
        case .role:
            let text = try Self.text(value)
            guard let r = Role(rawValue: text) else { throw Invalid(message: "must be all, api or worker") }
            role = r
        case .publicURL: publicURL = try Self.httpURL(value)
        case .bootstrapAPIKey:
            let key = try Self.text(value)
            if let problem = OrganizationStore.chosenKeyProblem(key) { throw Invalid(message: problem) }
            guard key.count <= 200 else { throw Invalid(message: "must be at most 200 characters") }
            bootstrapAPIKey = key
        case .dataDirectory: dataDirectory = try Self.text(value)
        case .rateLimitPerSecond: rateLimitPerSecond = Double(try Self.integer(value, Self.rateLimitRange))
        case .rateLimitBurst: rateLimitBurst = Double(try Self.integer(value, Self.rateLimitRange))
        case .maxRunningCampaigns: delivery.maxRunningPerOrganization = try Self.integer(value, Self.maxRunningCampaignsRange)
        case .batchSize: delivery.batchSize = try Self.integer(value, Self.batchSizeRange)
        case .logLevel:
            guard let level = Logger.Level(rawValue: try Self.text(value).lowercased()) else {
                throw Invalid(message: "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = level
        }
    }

    private static func text(_ value: RawValue) throws(Invalid) -> String {
        let text: String
        switch value {
        case .text(let t): text = t
        case .json(.string(let t)): text = t
        case .json(let other): throw Invalid(message: "must be a string, not \(other.typeName)")
        }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw Invalid(message: "must not be empty") }
        return text
    }

    private static func integer(_ value: RawValue, _ range: ClosedRange<Int>) throws(Invalid) -> Int {
        let rule = "must be a whole number from \(range.lowerBound) to \(range.upperBound)"
        switch value {
        case .text(let t):
            guard let n = Int(t), range.contains(n) else { throw Invalid(message: rule) }
            return n
        case .json(.number(let d)):
            guard d.rounded() == d, d >= Double(range.lowerBound), d <= Double(range.upperBound) else { throw Invalid(message: rule) }
            return Int(d)
        case .json(let other):
            throw Invalid(message: "\(rule), not \(other.typeName)")
        }
    }

    private static func httpURL(_ value: RawValue) throws(Invalid) -> String {
        let text = try Self.text(value)
        guard let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = c.host, !host.isEmpty, c.query == nil, c.fragment == nil
        else { throw Invalid(message: "must be an absolute http:// or https:// URL such as https://sms.example.com") }
        return text
    }

    /// ` (got "…")` for messages; nothing for secrets.
    private static func got(_ value: RawValue, secret: Bool) -> String {
        guard !secret else { return "" }
        switch value {
        case .text(let t): return " (got \(quoted(t)))"
        case .json(.string(let t)): return " (got \(quoted(t)))"
        case .json(.number(let d)): return " (got \(FilterJSON.text(ofNumber: d)))"
        case .json: return ""
        }
    }

    private static func quoted(_ s: String) -> String {
        "\"" + (s.count > 80 ? String(s.prefix(80)) + "…" : s) + "\""
    }
}

/// The JSON config file, read into raw setting values and providers.
private struct ConfigFile {
    var values: [(HeraldConfiguration.Setting, source: String, value: HeraldConfiguration.RawValue)] = []
    var providers: [String: HeraldConfiguration.Provider] = [:]
    var problems: [HeraldConfiguration.ConfigurationError.Problem] = []

    static let sections: [String: [String]] = ["rateLimit": ["perSecond", "burst"]]

    static func read(_ path: String, environment: [String: String]) -> ConfigFile {
        var file = ConfigFile()
        let fileName = (path as NSString).lastPathComponent
        func problem(_ keyPath: [String], _ message: String) {
            let key = keyPath.joined(separator: ".")
            file.problems.append(.init(source: key.isEmpty ? "config file \(path)" : "\"\(key)\" in \(fileName)", message: message))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            problem([], "cannot be read")
            return file
        }
        let root: JSON
        do {
            root = try JSONDecoder().decode(JSON.self, from: data)
        } catch {
            problem([], "is not valid JSON")
            return file
        }
        guard case .object(let object) = root else {
            problem([], "must be a JSON object, not \(root.typeName)")
            return file
        }
        /// `"${NAME}"` strings replaced by the variable's value; `nil` (after a problem) when unset.
        func expand(_ value: JSON, at keyPath: [String]) -> JSON? {
            guard case .string(let s) = value, s.hasPrefix("${"), s.hasSuffix("}") else { return value }
            let name = String(s.dropFirst(2).dropLast())
            guard let v = environment[name], !v.isEmpty else {
                problem(keyPath, "refers to the environment variable \(name), which is not set")
                return nil
            }
            return .string(v)
        }
        var byKey: [[String]: HeraldConfiguration.Setting] = [:]
        for setting in HeraldConfiguration.Setting.allCases { if let key = setting.fileKey { byKey[key] = setting } }
        let topKeys = Set(byKey.keys.map { $0[0] }).union(["providers"]).sorted()
        for (key, value) in object.sorted(by: { $0.key < $1.key }) where value != .null {
            if let setting = byKey[[key]] {
                if let v = expand(value, at: [key]) { file.values.append((setting, "\"\(key)\" in \(fileName)", .json(v))) }
            } else if let members = sections[key] {
                guard case .object(let section) = value else {
                    problem([key], "must be an object with \(members.joined(separator: " and ")), not \(value.typeName)")
                    continue
                }
                for (member, v) in section.sorted(by: { $0.key < $1.key }) where v != .null {
                    guard let setting = byKey[[key, member]] else {
                        problem([key, member], "unknown key (\(key) takes \(members.joined(separator: ", ")))")
                        continue
                    }
                    if let v = expand(v, at: [key, member]) { file.values.append((setting, "\"\(key).\(member)\" in \(fileName)", .json(v))) }
                }
            } else if key == "providers" {
                let providers = readProviders(value, problem: problem, expand: expand)
                file.providers.merge(providers) { $1 }
            } else {
                problem([key], "unknown key (known keys: \(topKeys.joined(separator: ", ")))")
            }
        }
        return file
    }

    private static func readProviders(_ value: JSON, problem: ([String], String) -> Void,
                                      expand: (JSON, [String]) -> JSON?) -> [String: HeraldConfiguration.Provider] {
        var providers: [String: HeraldConfiguration.Provider] = [:]
        guard case .object(let entries) = value else {
            problem(["providers"], "must be an object of providers by name, not \(value.typeName)")
            return providers
        }
        for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
            let path = ["providers", name]
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { problem(path, "a provider needs a name"); continue }
            guard case .object(let members) = entry else { problem(path, "must be an object with a type, not \(entry.typeName)"); continue }
            guard case .string(let type)? = members["type"], !type.isEmpty else { problem(path + ["type"], "is required: a provider type such as simulator"); continue }
            var settings: [String: String] = [:]
            for (key, v) in members where key != "type" && v != .null {
                switch expand(v, path + [key]) {
                case .string(let s)?: settings[key] = s
                case .number(let d)?: settings[key] = FilterJSON.text(ofNumber: d)
                case .bool(let b)?: settings[key] = String(b)
                case nil: break
                case let other?: problem(path + [key], "must be a string, number or boolean, not \(other.typeName)")
                }
            }
            providers[name] = HeraldConfiguration.Provider(name: name, type: type, settings: settings)
        }
        return providers
    }
}
