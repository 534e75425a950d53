import Foundation
import HeraldAPI
import HeraldStore
import Testing

/// `HeraldConfiguration.load`: one rule per setting for flags, environment and config file,
/// every problem reported at once, precedence flag > environment > file > default.
@Suite("Configuration loading", .timeLimit(.minutes(10)))
struct ConfigurationTests {
    typealias Setting = HeraldConfiguration.Setting

    /// Writes `json` to a temporary config file, runs `body` with its path, then removes it.
    static func withFile<T>(_ json: String, _ body: (String) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-config-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url.path)
    }

    /// The problems `load` reports, or none.
    static func problems(flags: [Setting: String] = [:], environment: [String: String] = [:], file json: String? = nil) throws -> [HeraldConfiguration.ConfigurationError.Problem] {
        func load(_ path: String?) -> [HeraldConfiguration.ConfigurationError.Problem] {
            do {
                _ = try HeraldConfiguration.load(flags: flags, environment: environment, configFile: path)
                return []
            } catch {
                return error.problems
            }
        }
        guard let json else { return load(nil) }
        return try withFile(json) { load($0) }
    }

    @Test("defaults when nothing is given")
    func defaults() throws {
        let c = try HeraldConfiguration.load(environment: [:])
        #expect(c.host == "127.0.0.1")
        #expect(c.port == 8080)
        #expect(c.database == .sqlite(path: "herald.db"))
        #expect(c.rateLimitPerSecond == 100)
        #expect(c.rateLimitBurst == 200)
    }

    struct Bad: Sendable, CustomStringConvertible {
        var flags: [Setting: String] = [:]
        var environment: [String: String] = [:]
        var file: String?
        /// The source the one problem must name, and a part of its message.
        var source: String
        var message: String
        var description: String { "\(source): \(message)" }
    }

    static let bad: [Bad] = [
        // Rate limits of 0 or less used to pass loading and crash the server (KeyedTokenBuckets).
        Bad(environment: ["HERALD_RATE_LIMIT": "0"], source: "HERALD_RATE_LIMIT", message: "whole number from 1 to 1000000"),
        Bad(environment: ["HERALD_RATE_LIMIT": "-5"], source: "HERALD_RATE_LIMIT", message: "whole number from 1"),
        Bad(environment: ["HERALD_RATE_LIMIT_BURST": "0"], source: "HERALD_RATE_LIMIT_BURST", message: "whole number from 1"),
        Bad(file: #"{"rateLimit":{"perSecond":0}}"#, source: #""rateLimit.perSecond" in"#, message: "whole number from 1"),
        Bad(file: #"{"rateLimit":{"burst":-1}}"#, source: #""rateLimit.burst" in"#, message: "whole number from 1"),
        // Fractions and words are not rates.
        Bad(environment: ["HERALD_RATE_LIMIT": "7.5"], source: "HERALD_RATE_LIMIT", message: #"(got "7.5")"#),
        Bad(environment: ["HERALD_RATE_LIMIT": "0.2"], source: "HERALD_RATE_LIMIT", message: "whole number"),
        Bad(environment: ["HERALD_RATE_LIMIT": "abc"], source: "HERALD_RATE_LIMIT", message: #"(got "abc")"#),
        Bad(file: #"{"rateLimit":{"perSecond":7.5}}"#, source: #""rateLimit.perSecond" in"#, message: "(got 7.5)"),
        Bad(file: #"{"rateLimit":{"perSecond":"fast"}}"#, source: #""rateLimit.perSecond" in"#, message: "not a string"),
        Bad(file: #"{"rateLimit":5}"#, source: #""rateLimit" in"#, message: "must be an object"),
        Bad(file: #"{"rateLimit":{"perSecnd":5}}"#, source: #""rateLimit.perSecnd" in"#, message: "unknown key"),
        // Ports are 1–65535 whole numbers, from every source (99999 used to wrap to 34463).
        Bad(flags: [.port: "99999"], source: "--port", message: "whole number from 1 to 65535"),
        Bad(flags: [.port: "http"], source: "--port", message: "whole number"),
        Bad(environment: ["HERALD_PORT": "0"], source: "HERALD_PORT", message: "whole number from 1 to 65535"),
        Bad(file: #"{"port":83654}"#, source: #""port" in"#, message: "(got 83654)"),
        Bad(file: #"{"port":"18109"}"#, source: #""port" in"#, message: "not a string"),
        Bad(file: #"{"port":18109.5}"#, source: #""port" in"#, message: "whole number"),
        Bad(file: #"{"port":true}"#, source: #""port" in"#, message: "not a boolean"),
        // Unknown keys are typos, not silence.
        Bad(file: #"{"prot":18109}"#, source: #""prot" in"#, message: "unknown key"),
        Bad(file: #"{"database":5}"#, source: #""database" in"#, message: "must be a string, not a number"),
        Bad(file: #"{"database":"${HERALD_NOT_SET}"}"#, source: #""database" in"#, message: "HERALD_NOT_SET, which is not set"),
        Bad(file: #"[1]"#, source: "config file", message: "must be a JSON object"),
        Bad(file: #"{"port":"#, source: "config file", message: "not valid JSON"),
        Bad(file: #"{"providers":{"x":{"latencyMs":5}}}"#, source: #""providers.x.type" in"#, message: "is required"),
        Bad(file: #"{"batchSize":0}"#, source: #""batchSize" in"#, message: "from 1 to 10000"),
        Bad(file: #"{"maxRunningCampaigns":0}"#, source: #""maxRunningCampaigns" in"#, message: "whole number from 1"),
        Bad(file: #"{"role":"boss"}"#, source: #""role" in"#, message: "all, api or worker"),
        Bad(flags: [.role: "boss"], source: "--role", message: "all, api or worker"),
        // URLs.
        Bad(file: #"{"publicUrl":"not a url"}"#, source: #""publicUrl" in"#, message: "absolute http:// or https:// URL"),
        Bad(environment: ["HERALD_PUBLIC_URL": "ftp://x.example"], source: "HERALD_PUBLIC_URL", message: "absolute http"),
        Bad(flags: [.database: "mysql://x"], source: "--database", message: #"unsupported database URL scheme "mysql""#),
        Bad(environment: ["HERALD_DATABASE_URL": "postgres://u:pw@h:99999/db"], source: "HERALD_DATABASE_URL", message: "port must be from 1 to 65535"),
        Bad(flags: [.host: ""], source: "--host", message: "must not be empty"),
        Bad(environment: ["HERALD_BOOTSTRAP_API_KEY": "secret12"], source: "HERALD_BOOTSTRAP_API_KEY", message: "at least 32 characters"),
        Bad(environment: ["HERALD_BOOTSTRAP_API_KEY": "hk_ with spaces in it and long enough to count"], source: "HERALD_BOOTSTRAP_API_KEY", message: "ASCII letters, digits"),
        Bad(environment: ["HERALD_LOG_LEVEL": "loud"], source: "HERALD_LOG_LEVEL", message: "trace, debug, info"),
        Bad(file: #"{"logLevel":3}"#, source: #""logLevel" in"#, message: "must be a string"),
    ]

    @Test("the log level comes from HERALD_LOG_LEVEL or the file, in any case")
    func logLevel() throws {
        #expect(try HeraldConfiguration.load(environment: [:]).logLevel == .info)
        #expect(try HeraldConfiguration.load(environment: ["HERALD_LOG_LEVEL": "DEBUG"]).logLevel == .debug)
        #expect(try Self.withFile(#"{"logLevel":"warning"}"#) { try HeraldConfiguration.load(environment: [:], configFile: $0) }.logLevel == .warning)
    }

    @Test("a bad value from any source is a problem naming the source", arguments: bad)
    func badValue(_ bad: Bad) throws {
        let problems = try Self.problems(flags: bad.flags, environment: bad.environment, file: bad.file)
        try #require(problems.count == 1, "\(problems)")
        #expect(problems[0].source.hasPrefix(bad.source), "\(problems[0])")
        #expect(problems[0].message.contains(bad.message), "\(problems[0])")
    }

    @Test("every bad setting is listed in one error, from every source")
    func everyProblemAtOnce() throws {
        let problems = try Self.problems(flags: [.port: "99999"], environment: ["HERALD_RATE_LIMIT": "0", "HERALD_PORT": "x"],
                                         file: #"{"prot":1,"port":"1","rateLimit":{"burst":0}}"#)
        let sources = problems.map(\.source)
        #expect(sources.contains("--port"))
        #expect(sources.contains("HERALD_PORT"))
        #expect(sources.contains("HERALD_RATE_LIMIT"))
        #expect(sources.contains { $0.hasPrefix(#""prot" in"#) })
        #expect(sources.contains { $0.hasPrefix(#""port" in"#) })
        #expect(sources.contains { $0.hasPrefix(#""rateLimit.burst" in"#) })
        #expect(problems.count == 6)
        let error = HeraldConfiguration.ConfigurationError(problems: problems)
        #expect(error.description.hasPrefix("invalid configuration (6 problems):"))
        #expect(error.description.split(separator: "\n").count == 7)
    }

    @Test("a bad value is reported even when a higher source overrides it")
    func overriddenBadValue() throws {
        let problems = try Self.problems(flags: [.port: "9000"], file: #"{"port":"9000"}"#)
        #expect(problems.map(\.source).allSatisfy { $0.hasPrefix(#""port" in"#) } && problems.count == 1)
    }

    @Test("precedence: flag, then environment, then file, then default")
    func precedence() throws {
        let file = #"{"host":"10.0.0.1","port":9001,"dataDirectory":"/file","rateLimit":{"perSecond":7,"burst":9},"batchSize":50,"maxRunningCampaigns":3,"publicUrl":"https://file.example"}"#
        let c = try Self.withFile(file) { path in
            try HeraldConfiguration.load(flags: [.port: "9003"],
                                         environment: ["HERALD_PORT": "9002", "HERALD_DATA_DIR": "/env", "HERALD_RATE_LIMIT": "8", "HERALD_HOST": ""],
                                         configFile: path)
        }
        #expect(c.port == 9003)
        #expect(c.dataDirectory == "/env")
        #expect(c.host == "10.0.0.1") // an empty variable counts as unset
        #expect(c.rateLimitPerSecond == 8)
        #expect(c.rateLimitBurst == 9)
        #expect(c.delivery.batchSize == 50)
        #expect(c.delivery.maxRunningPerOrganization == 3)
        #expect(c.publicURL == "https://file.example")
        #expect(c.database == .sqlite(path: "herald.db"))
    }

    @Test("database URLs from the file expand ${NAME}; PostgreSQL URLs are parsed")
    func databaseFromFile() throws {
        let c = try Self.withFile(#"{"database":"${HERALD_TEST_DB}"}"#) { path in
            try HeraldConfiguration.load(environment: ["HERALD_TEST_DB": "postgres://app:s3cret@db.example:5433/herald"], configFile: path)
        }
        guard case .postgres(let a) = c.database else { Issue.record("not PostgreSQL: \(c.database)"); return }
        #expect(a.endpoint == "db.example:5433")
        #expect(a.username == "app")
        #expect(a.password == "s3cret")
        #expect(a.database == "herald")
        #expect(!c.database.description.contains("s3cret"))
    }

    @Test("a bad database URL never repeats its password")
    func databaseSecret() throws {
        let problems = try Self.problems(environment: ["HERALD_DATABASE_URL": "postgres://u:hunter2@h:0/db?sslmode=require"])
        #expect(problems.count == 1)
        #expect(!problems.description.contains("hunter2"))
    }
}
