import Foundation
import HeraldEngine

/// Herald's settings. Precedence (ARCHITECTURE.md "Configuration"): command line, then
/// `HERALD_*` environment, then the JSON config file, then defaults. Secrets in the file may be
/// written `"${ENV_NAME}"`; they are never logged.
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
    public var databaseURL = "sqlite://herald.db"
    public var role: Role = .all
    public var publicURL: String?
    public var bootstrapAPIKey: String?
    public var rateLimitPerSecond: Double = 100
    public var rateLimitBurst: Double = 200
    public var dataDirectory = "herald-data"
    public var providers: [String: Provider] = ["simulator": Provider(name: "simulator", type: "simulator", settings: [:])]
    /// Delivery engine settings (`maxRunningCampaigns`, `batchSize` in the config file).
    public var delivery = DeliveryConfiguration()

    public init() {}

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The file's settings applied over the defaults.
    public mutating func apply(file path: String, environment: [String: String]) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem(description: "cannot read config file \(path)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Problem(description: "config file \(path) is not a JSON object")
        }
        func expand(_ s: String) -> String {
            guard s.hasPrefix("${"), s.hasSuffix("}") else { return s }
            return environment[String(s.dropFirst(2).dropLast())] ?? ""
        }
        if let v = object["host"] as? String { host = v }
        if let v = object["port"] as? Int { port = v }
        if let v = object["database"] as? String { databaseURL = expand(v) }
        if let v = object["publicUrl"] as? String { publicURL = v }
        if let v = object["dataDirectory"] as? String { dataDirectory = v }
        if let v = object["role"] as? String {
            guard let r = Role(rawValue: v) else { throw Problem(description: "role must be all, api or worker") }
            role = r
        }
        if let v = object["maxRunningCampaigns"] as? Int, v >= 1 { delivery.maxRunningPerOrganization = v }
        if let v = object["batchSize"] as? Int, (1...10_000).contains(v) { delivery.batchSize = v }
        if let limit = object["rateLimit"] as? [String: Any] {
            if let v = limit["perSecond"] as? Double { rateLimitPerSecond = v }
            if let v = limit["burst"] as? Double { rateLimitBurst = v }
        }
        if let providers = object["providers"] as? [String: Any] {
            for (name, value) in providers {
                guard let p = value as? [String: Any], let type = p["type"] as? String else {
                    throw Problem(description: "provider \(name) needs a type")
                }
                var settings: [String: String] = [:]
                for (k, v) in p where k != "type" {
                    if let s = v as? String { settings[k] = expand(s) } else { settings[k] = "\(v)" }
                }
                self.providers[name] = Provider(name: name, type: type, settings: settings)
            }
        }
    }

    /// `HERALD_*` environment variables applied over the file.
    public mutating func apply(environment env: [String: String]) throws {
        if let v = env["HERALD_HOST"] { host = v }
        if let v = env["HERALD_PORT"] {
            guard let p = Int(v), (1...65535).contains(p) else { throw Problem(description: "HERALD_PORT must be a port number") }
            port = p
        }
        if let v = env["HERALD_DATABASE_URL"] { databaseURL = v }
        if let v = env["HERALD_PUBLIC_URL"] { publicURL = v }
        if let v = env["HERALD_BOOTSTRAP_API_KEY"], !v.isEmpty { bootstrapAPIKey = v }
        if let v = env["HERALD_DATA_DIR"] { dataDirectory = v }
        if let v = env["HERALD_RATE_LIMIT"], let d = Double(v) { rateLimitPerSecond = d }
        if let v = env["HERALD_RATE_LIMIT_BURST"], let d = Double(v) { rateLimitBurst = d }
    }

    public var publicBaseURL: String { publicURL ?? "http://\(host):\(port)" }
}
