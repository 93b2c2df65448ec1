import DevInfraCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// How to run one server. Tests build it with a temp database, a port of 0 and their own clock.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var databasePath: String
    /// Requests per second per key (and the burst), before 429.
    public var rateLimit: Double = 50
    public var logLevel: Logger.Level = .info
    public var usageFlushInterval: Duration = .seconds(5)
    public var clock: @Sendable () -> Date = { Date() }

    public init(databasePath: String) {
        self.databasePath = databasePath
    }

    /// The server key lives beside the database, 0600.
    public var secretsPath: String { databasePath + ".key" }
}

/// The whole server: storage, routes, middleware and the background flush of key use.
public func buildApplication(_ configuration: ServerConfiguration) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "dev-infra-server")
    logger.logLevel = configuration.logLevel
    let repository = try SQLiteRepository(path: configuration.databasePath)
    let services = Services(repository: repository, secrets: try ServerSecrets.loadOrCreate(at: configuration.secretsPath),
                            clock: configuration.clock,
                            rateLimiter: RateLimiter(perSecond: configuration.rateLimit, burst: max(1, configuration.rateLimit)),
                            logger: logger)
    return Application(
        router: buildRouter(services),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "dev-infra-server"),
        services: [UsageFlusher(services: services, interval: configuration.usageFlushInterval)],
        logger: logger
    )
}

func buildRouter(_ services: Services) -> Router<ServerContext> {
    let router = Router(context: ServerContext.self)
    router.add(middleware: LogRequestsMiddleware(.info, includeHeaders: .none))
    router.add(middleware: ProblemMiddleware())
    router.get("healthz") { _, _ in ["status": "ok"] }
    router.get("openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
    }
    let account = AccountController(services: services)
    let v1 = router.group("v1")
    v1.post("auth/token", use: account.token)
    let protected = v1.group().add(middleware: AuthMiddleware(services: services))
    protected.get("whoami", use: account.whoami)
    KeysController(services: services).register(protected)
    let other = AuditAndProjectsController(services: services)
    protected.get("audit", use: other.audit)
    protected.get("teams/{team}/projects", use: other.listProjects)
    protected.post("teams/{team}/projects", use: other.createProject)
    return router
}

/// Writes collected key use every `interval`, and once more on shutdown. Also forgets
/// idempotency records after a day: a retry comes within seconds, and the sealed key should not
/// outlive its purpose.
struct UsageFlusher: Service {
    let services: Services
    let interval: Duration
    static let idempotencyWindow: TimeInterval = 24 * 3600

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                try? await services.usage.flush(to: services.repository)
                try? await services.repository.pruneIdempotency(before: services.clock().addingTimeInterval(-Self.idempotencyWindow))
            }
        }
        try? await services.usage.flush(to: services.repository)
    }
}
