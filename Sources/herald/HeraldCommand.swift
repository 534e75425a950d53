import ArgumentParser
import Foundation
import HeraldAPI
import HeraldCore
import HeraldStore
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

@main
struct HeraldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Herald: a self-hosted bulk messaging campaign server.",
        subcommands: [Serve.self, Migrate.self, Org.self, Key.self]
    )
}

/// Options every command shares: where the database is and the config file.
struct CommonOptions: ParsableArguments {
    @Option(help: "Database URL: sqlite://herald.db (default) or postgres://user:password@host:port/db (HERALD_DATABASE_URL).")
    var database: String?

    @Option(help: "JSON configuration file (HERALD_CONFIG).")
    var config: String?

    /// The configuration from the file, the environment and these and `flags`, every value
    /// validated (`HeraldConfiguration.load`).
    func configuration(flags: [HeraldConfiguration.Setting: String] = [:]) throws -> HeraldConfiguration {
        let env = ProcessInfo.processInfo.environment
        var flags = flags
        if let database { flags[.database] = database }
        let file = config ?? env["HERALD_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        return try HeraldConfiguration.load(flags: flags, environment: env, configFile: file)
    }
}

/// A command that cannot go on, with the reason for the operator.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

/// How long startup waits for PostgreSQL to answer before giving up.
let databaseStartupTimeout: Duration = .seconds(10)

/// Opens `location` and makes sure it can be used: with `mustExist`, an SQLite file that does not
/// exist is an error instead of a new empty database; PostgreSQL must answer within
/// `databaseStartupTimeout` (a missing database or refused login fails at once).
func openDatabase(_ location: DatabaseLocation, mustExist: Bool, logger: Logger) async throws -> any SQLDatabase {
    if mustExist, case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
        throw CommandFailure(description: "no Herald database at \(path); run `herald migrate --database \(location)` or `herald serve` first")
    }
    let db = try Storage.open(location, logger: logger)
    if let pg = db as? PostgresDatabase { try await pg.checkReachable(timeout: databaseStartupTimeout) }
    return db
}

/// Runs `body` with an open database (see `openDatabase`); PostgreSQL's pool runs beside it for
/// the duration.
func withDatabase<T: Sendable>(_ location: DatabaseLocation, mustExist: Bool = false, logger: Logger,
                               _ body: @escaping @Sendable (Storage) async throws -> T) async throws -> T {
    let db = try await openDatabase(location, mustExist: mustExist, logger: logger)
    guard let pg = db as? PostgresDatabase else {
        let result = try await body(Storage(db: db))
        await db.close()
        return result
    }
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await pg.run(); return nil }
        group.addTask { try await body(Storage(db: db)) }
        while let result = try await group.next() {
            if let value = result {
                group.cancelAll()
                return value
            }
        }
        throw CancellationError()
    }
}

/// Prints one JSON object line with the members in the given order.
func printJSON(_ members: KeyValuePairs<String, String>) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    func encoded(_ s: String) -> String { (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\"" }
    print("{" + members.map { "\(encoded($0.key)):\(encoded($0.value))" }.joined(separator: ",") + "}")
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the API and the engine.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Address to listen on (HERALD_HOST).") var host: String?
    @Option(help: "Port to listen on, 1-65535 (HERALD_PORT).") var port: String?
    @Option(help: "all (default), api or worker.") var role: String?
    @Option(name: .customLong("public-url"), help: "Public base URL for links (HERALD_PUBLIC_URL).") var publicURL: String?

    func run() async throws {
        var flags: [HeraldConfiguration.Setting: String] = [:]
        flags[.host] = host
        flags[.port] = port
        flags[.role] = role
        flags[.publicURL] = publicURL
        let c = try common.configuration(flags: flags)
        var logger = Logger(label: "herald")
        logger.logLevel = c.logLevel
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let db = try await openDatabase(c.database, mustExist: false, logger: logger)
        let storage = Storage(db: db)
        // A generated key is printed once (API.md §2); one given in HERALD_BOOTSTRAP_API_KEY is
        // already known to the operator and never echoed into a log.
        let keyWasGiven = c.bootstrapAPIKey != nil
        let herald = HeraldService(configuration: c, storage: storage, logger: logger, prometheus: registry) { boot in
            let text = "Created organization \"\(boot.organization.name)\" (\(boot.organization.id)) with the simulator sender \(boot.sender.address).\n"
                + (keyWasGiven ? "Admin API key: the value of HERALD_BOOTSTRAP_API_KEY (not printed).\n"
                               : "Admin API key (shown once, store it now): \(boot.apiKey)\n")
            // Written unbuffered, so that it reaches a redirected stdout at once.
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        var services: [any Service] = []
        if let pg = db as? PostgresDatabase { services.append(PostgresPoolService(database: pg)) }
        services.append(herald)
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // In-flight batches finish within seconds; past this, remaining work is cancelled (and
        // recovered from the rows at the next start).
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: groupConfiguration)
        // "Herald listening" is logged by HeraldService once the server is bound.
        try await group.run()
        await db.close()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let c = try common.configuration()
        let applied = try await withDatabase(c.database, logger: Logger(label: "herald")) { storage in
            try await Migrator(database: storage.db).migrate()
        }
        print(applied.isEmpty ? "The schema is up to date." : "Applied migrations \(applied.map(String.init).joined(separator: ", ")).")
    }
}

struct Org: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "org", abstract: "Manage organizations.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organization and its first admin key; prints one JSON line.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The organization's name (\(DisplayName.rule)).") var name: String

        func validate() throws {
            guard DisplayName.isValid(name) else { throw ValidationError("NAME must be \(DisplayName.rule)") }
        }

        func run() async throws {
            let c = try common.configuration()
            let name = self.name
            let (orgId, key) = try await withDatabase(c.database, mustExist: true, logger: Logger(label: "herald")) { storage in
                try await Migrator(database: storage.db).migrate()
                let org = try await storage.organizations.create(name: name, billingMode: .credits)
                let scope = OrganizationScope(key: org.key, id: org.id)
                let (_, secret) = try await storage.organizations.createKey(scope, name: "admin", role: .admin)
                return (org.id, secret)
            }
            printJSON(["organizationId": orgId, "apiKey": key])
        }
    }
}

struct Key: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key; prints one JSON line.")
        @OptionGroup var common: CommonOptions
        @Option(help: "The organization's id.") var org: String
        @Option(help: "read, write or admin.") var role: String
        @Option(help: "A name for the key (\(DisplayName.rule)).") var name: String = "cli"

        func validate() throws {
            guard APIKeyRole(rawValue: role) != nil else { throw ValidationError("--role must be read, write or admin") }
            guard DisplayName.isValid(name) else { throw ValidationError("--name must be \(DisplayName.rule)") }
        }

        func run() async throws {
            let c = try common.configuration()
            guard let role = APIKeyRole(rawValue: role) else { throw ValidationError("--role must be read, write or admin") }
            let orgId = org
            let name = self.name
            let key = try await withDatabase(c.database, mustExist: true, logger: Logger(label: "herald")) { storage -> String in
                try await Migrator(database: storage.db).migrate()
                guard let org = try await storage.organizations.find(id: orgId) else { throw ValidationError("no organization with id \(orgId)") }
                return try await storage.organizations.createKey(OrganizationScope(key: org.key, id: org.id), name: name, role: role).1
            }
            printJSON(["apiKey": key])
        }
    }
}
