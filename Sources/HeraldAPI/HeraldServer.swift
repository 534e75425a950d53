import Foundation
import HeraldCore
import HeraldEngine
import HeraldProviders
import HeraldStore
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// Builds the HTTP application: routes, middleware and the services it runs beside.
public enum HeraldServer {
    /// The router of the whole API.
    /// `simulator` serves `GET /api/simulator/messages` (404 without one).
    public static func buildRouter(configuration: HeraldConfiguration, storage: Storage, imports: ImportService,
                                   prometheus: PrometheusCollectorRegistry?,
                                   simulator: SimulatorProvider? = nil,
                                   providers: ProviderRegistry? = nil) -> Router<HeraldRequestContext> {
        let router = Router(context: HeraldRequestContext.self)
        router.add(middleware: RequestIdMiddleware())
        OperationsRoutes(storage: storage, prometheus: prometheus).register(on: router)
        let authenticated = router.group("api")
            .add(middleware: AuthMiddleware(storage: storage))
            .add(middleware: RateLimitMiddleware(ratePerSecond: configuration.rateLimitPerSecond, burst: configuration.rateLimitBurst))
        let api = authenticated.group().add(middleware: IdempotencyMiddleware(storage: storage))
        // Routes taking a CSV upload: an Idempotency-Key covers the file's bytes, received once.
        let uploads = UploadReceiver(directory: configuration.dataDirectory)
        let uploadRoutes = authenticated.group().add(middleware: IdempotencyMiddleware(storage: storage, uploads: uploads))
        OrganizationRoutes(storage: storage).register(on: api)
        ContactRoutes(storage: storage, imports: imports, uploads: uploads).register(on: api, uploads: uploadRoutes)
        ListRoutes(storage: storage).register(on: api)
        SegmentRoutes(storage: storage).register(on: api)
        SenderRoutes(storage: storage, providerNames: Set(configuration.providers.keys)).register(on: api)
        CampaignRoutes(storage: storage, providers: providers ?? ProviderRegistry(providers: [])).register(on: api)
        SimulatorRoutes(simulator: simulator).register(on: api)
        return router
    }

    /// The application with its background services: imports, and with `engine` the delivery
    /// engine and the providers that run as services (the simulator's receipt queue).
    /// `onServerRunning` is called once the server is bound and accepting connections.
    public static func buildApplication(configuration: HeraldConfiguration, storage: Storage, logger: Logger,
                                        prometheus: PrometheusCollectorRegistry?,
                                        simulator: SimulatorProvider? = nil,
                                        engine: DeliveryEngine? = nil,
                                        onServerRunning: @escaping @Sendable (any NIOCore.Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        let imports = ImportService(storage: storage, logger: logger)
        let router = buildRouter(configuration: configuration, storage: storage, imports: imports, prometheus: prometheus,
                                 simulator: simulator, providers: engine?.providers)
        var services: [any Service] = [RetentionService(storage: storage, logger: logger)]
        if configuration.role != .api {
            services.append(imports)
            if let engine {
                if let simulator { services.append(simulator) }
                services.append(engine)
            }
        }
        return Application(
            responder: HeadResponder(base: router.buildResponder()),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "herald"),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}

/// `herald serve` as a service: migrates, bootstraps on first start, then runs the application
/// until graceful shutdown.
public struct HeraldService: Service {
    let configuration: HeraldConfiguration
    let storage: Storage
    let logger: Logger
    let prometheus: PrometheusCollectorRegistry?
    let onBootstrap: @Sendable (Storage.Bootstrap) -> Void

    public init(configuration: HeraldConfiguration, storage: Storage, logger: Logger, prometheus: PrometheusCollectorRegistry?,
                onBootstrap: @escaping @Sendable (Storage.Bootstrap) -> Void) {
        self.configuration = configuration
        self.storage = storage
        self.logger = logger
        self.prometheus = prometheus
        self.onBootstrap = onBootstrap
    }

    public func run() async throws {
        try await Migrator(database: storage.db).migrate()
        if storage.db.dialect == .postgres,
           let ctype = try? await storage.db.read({ c in try await c.queryOne("SHOW lc_ctype", [])?.text(0) }),
           ["c", "posix"].contains(ctype.lowercased()) {
            logger.warning("the PostgreSQL database's LC_CTYPE is \(ctype): case-insensitive search and filters fold ASCII letters only (create the database with a UTF-8 locale, e.g. C.UTF-8)")
        }
        if let boot = try await storage.bootstrapIfEmpty(apiKey: configuration.bootstrapAPIKey) {
            onBootstrap(boot)
        }
        let (providers, simulator) = try HeraldServer.makeProviders(configuration: configuration, logger: logger)
        let engine = DeliveryEngine(storage: storage, providers: providers, configuration: configuration.delivery, logger: logger)
        let bound = BoundFlag()
        let logger = self.logger
        let metadata: Logger.Metadata = ["database": "\(storage.db.dialect.rawValue)", "role": "\(configuration.role.rawValue)"]
        let app = HeraldServer.buildApplication(configuration: configuration, storage: storage, logger: logger, prometheus: prometheus,
                                                simulator: simulator, engine: engine) { channel in
            bound.set()
            let address = channel.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" }
            logger.info("Herald listening", metadata: metadata.merging(["address": "\(address ?? "\(configuration.host):\(configuration.port)")"]) { $1 })
        }
        do {
            try await app.run()
        } catch where !bound.isSet {
            let address = "\(configuration.host):\(configuration.port)"
            switch error {
            case is SocketAddressError.UnknownHost, is SocketAddressError: throw ListenError(address: address, reason: "unknown host or invalid address")
            case let e as IOError: throw ListenError(address: address, reason: String(cString: strerror(e.errnoCode)).lowercased())
            case is ChannelError, is NIOConnectionError: throw ListenError(address: address, reason: "\(error)")
            default: throw error
            }
        }
    }
}

/// The server could not bind its address (an unknown host, a port in use, no permission).
public struct ListenError: Error, Sendable, CustomStringConvertible {
    public var address: String
    public var reason: String
    public var description: String { "cannot listen on \(address): \(reason)" }
}

/// Set once the server is bound.
private final class BoundFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

extension HeraldServer {
    /// Builds the configured providers (API.md §8). The simulator keeps its record in its own
    /// SQLite file (`database` setting, default `<dataDirectory>/simulator.db`).
    public static func makeProviders(configuration: HeraldConfiguration, logger: Logger) throws -> (ProviderRegistry, SimulatorProvider?) {
        var providers: [any MessageProvider] = []
        var sources: [ReceiptSource] = []
        var simulator: SimulatorProvider?
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        for (name, p) in configuration.providers.sorted(by: { $0.key < $1.key }) {
            switch p.type {
            case "simulator":
                let path = p.settings["database"] ?? (configuration.dataDirectory as NSString).appendingPathComponent(name == "simulator" ? "simulator.db" : "simulator-\(name).db")
                let sim = try SimulatorProvider(configuration: .init(name: name, databasePath: path, settings: p.settings), logger: logger)
                providers.append(sim)
                sources.append(ReceiptSource(receipts: sim.receipts, finish: {}, acknowledge: { await sim.acknowledge($0) }))
                if simulator == nil || name == "simulator" { simulator = sim }
            default:
                logger.warning("provider type is not available in this build; senders using it cannot send", metadata: ["provider": "\(name)", "type": "\(p.type)"])
            }
        }
        return (ProviderRegistry(providers: providers, receiptSources: sources), simulator)
    }
}

/// Runs PostgreSQL's connection pool as a service.
public struct PostgresPoolService: Service {
    let database: PostgresDatabase
    public init(database: PostgresDatabase) { self.database = database }
    public func run() async throws {
        await cancelWhenGracefulShutdown { await database.run() }
    }
}
