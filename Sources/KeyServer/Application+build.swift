import DevInfraCore
import Foundation
import Hummingbird
import HummingbirdBcrypt
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle

/// The server's rate limits: per key, and for unauthenticated traffic per client address and username.
public struct ServerLimits: Sendable {
    /// Requests per second per key (and the burst), before 429.
    public var perKey: Double = 50
    /// `POST /v1/introspect` calls per second per verifying credential: a service asks once per
    /// request it serves, so its own key's `perKey` limit would cap the whole service.
    public var perIntrospector: Double = 10_000
    /// Database reads of key ids that turn out not to exist, per client address (or per verifying
    /// service for introspection): a burst, then this many a second (`Authenticator.LookupBudget`).
    public var unknownKeyBurst: Double = 1000
    public var unknownKeysPerSecond: Double = 100
    /// Refused credentials per client address: a burst, then this many a second.
    public var refusalBurst: Double = 100
    public var refusalsPerSecond: Double = 5
    /// Sign-in attempts per client address and per username: a burst, then this many a minute.
    public var signInBurst: Double = 10
    public var signInNameBurst: Double = 5
    public var signInsPerMinute: Double = 6
    public init() {}
}

/// How to run one server. Its storage is built outside (`StorageBackend.open`, or a repository
/// the test made), so the same application runs on SQLite, PostgreSQL or memory.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var limits = ServerLimits()
    public var logLevel: Logger.Level = .info
    public var usageFlushInterval: Duration = .seconds(5)
    /// How long refused requests are counted before their rows are written: the longer, the fewer
    /// rows a flood leaves (at most `RejectionLog.capacity` and a few per interval).
    public var rejectionFlushInterval: Duration = .seconds(60)
    /// A connection that sends nothing for this long is closed (half-sent headers included).
    public var idleTimeout: Duration = .seconds(30)
    /// A request whose head and body have not all arrived this long after it began is cut off.
    public var requestReadTimeout: Duration = .seconds(30)
    /// Serve https with this certificate and key (PEM files), reloaded on SIGHUP; nil serves plain http.
    public var tls: (certificate: String, key: String)?
    public var clock: @Sendable () -> Date = { Date() }
    public var verifyPassword: @Sendable (String, String) -> Bool = { Bcrypt.verify($0, hash: $1) }
    /// Called after each background flush (key use, counted rejections, idempotency pruning):
    /// tests wait on it instead of sleeping.
    public var onFlush: (@Sendable () -> Void)?
    /// Verified keys kept in memory per replica (entries); 0 reads the database on every request.
    public var keyCacheSize = 100_000
    /// Where browsers reach the server (a proxy's https address), for device URLs and cookies.
    public var publicURL: String?
    /// Serve Prometheus `/metrics` on this address (its own listener, never the API's).
    public var metrics: (host: String, port: Int)?

    public init() {}

    /// Kept for callers that set only the per-key limit.
    public var rateLimit: Double {
        get { limits.perKey }
        set { limits.perKey = newValue }
    }
}

/// The whole server: storage, routes, middleware and the background flushes.
public func buildApplication(_ configuration: ServerConfiguration, repository: any KeyRepository,
                             secrets: ServerSecrets) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "dev-infra-server")
    logger.logLevel = configuration.logLevel
    let services = Services(repository: repository, secrets: secrets, clock: configuration.clock, limits: configuration.limits,
                            logger: logger, verifyPassword: configuration.verifyPassword, keyCacheSize: configuration.keyCacheSize,
                            servesTLS: configuration.tls != nil, publicURL: configuration.publicURL)
    let readTimeout = TimeAmount.seconds(configuration.requestReadTimeout.components.seconds)
    let http1 = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(timeout: readTimeout)],
                                                             idleTimeout: .seconds(configuration.idleTimeout.components.seconds)))
    var server = http1
    let ratio = configuration.rejectionFlushInterval / max(configuration.usageFlushInterval, .milliseconds(1))
    var background: [any Service] = [UsageFlusher(services: services, interval: configuration.usageFlushInterval,
                                                  rejectionsEvery: ratio.isFinite ? max(1, Int(min(ratio, 1e6))) : 1,
                                                  onFlush: configuration.onFlush)]
    if let tls = configuration.tls {
        let certificates = try CertificateStore(certificatePath: tls.certificate, keyPath: tls.key)
        server = try .tls(http1, tlsConfiguration: certificates.serverConfiguration())
        background.append(CertificateReloader(store: certificates, logger: logger))
    }
    if let metrics = configuration.metrics {
        let announce = logger
        background.append(buildMetricsApplication(services.metrics, services: services, host: metrics.host, port: metrics.port) { port in
            announce.info("metrics on \(metrics.host):\(port)/metrics")
        })
    }
    return Application(
        router: buildRouter(services),
        server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "dev-infra-server"),
        services: background,
        logger: logger
    )
}

func buildRouter(_ services: Services) -> Router<ServerContext> {
    let router = Router(context: ServerContext.self)
    router.add(middleware: RequestLogMiddleware(level: .info))
    router.add(middleware: MetricsMiddleware(metrics: services.metrics))
    let table = RouteTable()
    router.add(middleware: ProblemMiddleware(routes: table, services: services))
    registerRoutes(router, services)
    table.load(router.routes.map { ("\($0.path)", $0.method.rawValue) })
    return router
}

/// Every route; `RouteTable` and the contract test read the same router.
func registerRoutes(_ router: Router<ServerContext>, _ services: Services) {
    // Liveness: the process answers. It says what it last knew of the database without asking it,
    // so a load balancer's probe costs nothing; `/readyz` asks.
    router.get("healthz") { _, _ in
        HealthView(status: "ok", database: services.health.isUp ? "ok" : "unavailable",
                   changeFeed: services.repository.changes.isLive ? "live" : "down", changeFeedConnects: services.repository.changes.connects)
    }
    router.get("readyz") { _, _ in
        guard await services.checkDatabase() else { throw APIError(.databaseUnavailable, "the database is not answering", retryAfter: 1) }
        return ["status": "ready", "database": "ok"]
    }
    router.get("openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
    }
    let account = AccountController(services: services)
    WebController(services: services).register(router)
    let v1 = router.group("v1")
    v1.post("auth/token", use: account.token)
    CheckController(services: services).register(v1)
    DeviceController(services: services).register(v1)
    v1.group().add(middleware: AuthMiddleware(services: services, limiter: (services.introspections, .keysIntrospect)))
        .post("introspect", use: IntrospectionController(services: services).introspect)
    let protected = v1.group().add(middleware: AuthMiddleware(services: services))
    protected.get("whoami", use: account.whoami)
    KeysController(services: services).register(protected)
    IntegrationsController(services: services).register(protected)
    TrustController(services: services).register(v1, protected: protected)
    let other = AuditAndProjectsController(services: services)
    protected.get("audit", use: other.audit)
    protected.get("teams/{team}/projects", use: other.listProjects)
    protected.post("teams/{team}/projects", use: other.createProject)
}

/// `/healthz`: liveness, and what this replica last knew of its database and its change feed
/// (`down` while PostgreSQL's LISTEN connection is lost: the key cache is bypassed meanwhile).
struct HealthView: ResponseEncodable {
    var status: String
    var database: String
    var changeFeed: String
    var changeFeedConnects: Int
    enum CodingKeys: String, CodingKey { case status, database, changeFeed = "change_feed", changeFeedConnects = "change_feed_connects" }
}

/// Writes collected key use every `interval`, and once more on shutdown, with the counted
/// rejections. Also forgets idempotency records after a day: a retry comes within seconds, and
/// the sealed key should not outlive its purpose.
struct UsageFlusher: Service {
    let services: Services
    let interval: Duration
    /// Rejections are written every this many intervals.
    let rejectionsEvery: Int
    let onFlush: (@Sendable () -> Void)?
    static let idempotencyWindow: TimeInterval = 24 * 3600

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var tick = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }  // shutting down: the last flush follows, in a task of its own
                tick += 1
                let rejections = tick % rejectionsEvery == 0
                // In a task of its own: a shutdown arriving mid-flush must not cancel its writes.
                await Task { await flush(rejections: rejections) }.value
                onFlush?()
            }
        }
        // Shutting down: this task is cancelled, and a cancelled task's database calls fail at
        // once. The last flush runs in a task of its own, so nothing counted is lost.
        await Task { await flush(rejections: true) }.value
    }

    func flush(rejections: Bool) async {
        // A ping a tick keeps `/healthz`'s view of the database current without a request asking.
        guard await services.checkDatabase() else { return }
        do {
            try await services.usage.flush(to: services.repository)
            if rejections {
                try await services.rejections.flush(to: services.repository)
                try await services.checks.flush(to: services.repository)
            }
            try await services.repository.pruneIdempotency(before: services.clock().addingTimeInterval(-Self.idempotencyWindow))
            if rejections {
                try await services.repository.pruneAudit(events: RejectionLog.events,
                                                         before: services.clock().addingTimeInterval(-RejectionLog.retention))
            }
        } catch {
            services.logger.error("flush failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
    }
}
