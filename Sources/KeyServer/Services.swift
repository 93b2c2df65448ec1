import DevInfraCore
import Foundation
import Hummingbird
import Logging

/// What controllers share: storage, secrets, clock, limits, the authenticator. Built once per
/// application; a class, so that handlers and middleware share one reference instead of copying
/// (and retaining) twenty fields per request.
public final class Services: Sendable {
    static let maxBody = 64 * 1024
    static let maxPageSize = 200

    let repository: any KeyRepository
    let secrets: ServerSecrets
    let clock: @Sendable () -> Date
    /// Per client address, on refused credentials: once empty, that address's refusals are
    /// answered 429 instead, until it refills (reads of unknown keys are bounded by `unknownKeys`).
    let refusals: RateLimiter
    /// Sign-in attempts, per client address and per username, taken before bcrypt runs.
    let signInByClient: RateLimiter
    let signInByName: RateLimiter
    let usage = UsageRecorder()
    /// bcrypt runs at most this many at once, server-wide: sign-in floods from many addresses
    /// get 429 rather than a queue of 130 ms jobs on the thread pool.
    let passwordChecks = ConcurrencyLimit(max: 4)
    let rejections = RejectionLog()
    /// Verifications by gateways (`/v1/check`) and services (`/v1/introspect`), counted the same way.
    let checks = RejectionLog()
    /// Introspection calls per verifying credential (`ServerLimits.perIntrospector`).
    let introspections: RateLimiter
    /// Reads of unknown key ids, per client address or verifying service (`Authenticator.LookupBudget`).
    let unknownKeys: RateLimiter
    let logger: Logger
    let authenticator: Authenticator
    /// Key policy, shared by every front end.
    let keys: KeyService
    /// Rate limits (per key, per integration) and quotas, after authentication.
    let guardrails: Guardrails
    /// Integrations and kill switches.
    let identities: IdentityService
    /// Teams switched off, for credentials acting for a team by name.
    let teamSwitches: TeamSwitches
    /// OIDC trust policies and token exchange.
    let trust: TrustService
    /// Whether this server speaks https itself (cookies and device URLs follow).
    let servesTLS: Bool
    /// `serve --public-url`: where browsers reach the server when a proxy is in front.
    let publicURL: String?
    /// RFC 8628 device grants: `dev-infra login --web`.
    let devices: DeviceService
    /// Browser sign-in, sessions and passwords.
    var web: WebSessions { WebSessions(services: self) }
    /// bcrypt's verify; a parameter so a test can count that an unknown user costs one too.
    let verifyPassword: @Sendable (_ password: String, _ hash: String) -> Bool

    /// What this replica last learnt of the database: from `/readyz`, the flusher and failed requests.
    let health = DatabaseHealth()
    let metrics = ServerMetrics()

    init(repository: any KeyRepository, secrets: ServerSecrets, clock: @escaping @Sendable () -> Date, limits: ServerLimits, logger: Logger,
         verifyPassword: @escaping @Sendable (String, String) -> Bool, keyCacheSize: Int = 100_000, servesTLS: Bool = false,
         publicURL: String? = nil) {
        self.servesTLS = servesTLS
        self.publicURL = publicURL
        self.repository = repository
        self.secrets = secrets
        self.clock = clock
        self.logger = logger
        self.verifyPassword = verifyPassword
        unknownKeys = RateLimiter(perSecond: limits.unknownKeysPerSecond, burst: limits.unknownKeyBurst)
        introspections = RateLimiter(perSecond: limits.perIntrospector, burst: max(1, limits.perIntrospector))
        refusals = RateLimiter(perSecond: limits.refusalsPerSecond, burst: limits.refusalBurst)
        signInByClient = RateLimiter(perSecond: limits.signInsPerMinute / 60, burst: limits.signInBurst)
        signInByName = RateLimiter(perSecond: limits.signInsPerMinute / 60, burst: limits.signInNameBurst)
        authenticator = Authenticator(repository: repository, cache: KeyCache(capacity: keyCacheSize, feed: repository.changes),
                                      jwt: JWTSigner(secrets: secrets), clock: clock)
        let defaultRate = BucketRate(perSecond: limits.perKey, burst: max(1, limits.perKey))
        guardrails = Guardrails(limiter: PolicyLimiter(), defaultRate: defaultRate, maximum: defaultRate, repository: repository)
        keys = KeyService(repository: repository, secrets: secrets, clock: clock, usage: usage, rejections: rejections, guardrails: guardrails)
        identities = IdentityService(repository: repository, guardrails: guardrails, clock: clock)
        teamSwitches = TeamSwitches(repository: repository)
        devices = DeviceService(repository: repository, secrets: secrets, clock: clock)
        trust = TrustService(repository: repository, clock: clock, verifier: OIDCVerifier(clock: clock, client: OIDCVerifier.client))
    }

    /// One round trip to the database, remembered in `health`.
    func checkDatabase() async -> Bool {
        let repository = repository
        return await health.check { try await repository.ping() }
    }

    /// The event with the request's client address and id: what a change stores with itself.
    func stamped(_ event: AuditEvent, _ context: ServerContext) -> AuditEvent {
        var event = event
        event.client = context.client
        event.requestID = context.requestID
        return event
    }

    /// Audits what is not a change of stored state (a sign-in, a replay) on its own.
    func audit(_ event: AuditEvent, _ context: ServerContext) async {
        do { try await repository.append([stamped(event, context)]) } catch {
            logger.error("audit write failed", metadata: ["event": .string(event.event)])
        }
    }

    /// Counts a refused request; rows reach the database with the next flush (see `RejectionLog`).
    func reject(_ event: AuditEvent, _ context: ServerContext) {
        var event = event
        event.client = context.client
        event.requestID = context.requestID
        rejections.record(event)
    }

    /// `limit`: absent is `default`; anything but a whole number from 1 to the maximum is a 400.
    static func pageLimit(_ text: String?, default value: Int) throws -> Int {
        guard let text else { return value }
        guard let limit = Int(text), limit >= 1, limit <= maxPageSize else {
            throw APIError.invalidRequest("limit must be a whole number from 1 to \(maxPageSize)")
        }
        return limit
    }

    /// A boolean query parameter: `true` or `false`, absent is false.
    static func flag(_ text: String?, _ name: String) throws -> Bool {
        switch text {
        case nil, "false": return false
        case "true": return true
        default: throw APIError.invalidRequest("\(name) must be true or false")
        }
    }

    /// Decodes a JSON body, naming the field that is unknown, missing or of the wrong type.
    func decode<T: Decodable>(_ type: T.Type, from request: Request, allowed: Set<String>, allowEmpty: Bool = false) async throws -> T {
        try decode(type, from: try await body(of: request), allowed: allowed, allowEmpty: allowEmpty)
    }

    /// The whole body, refused with 413 past `maxBody`.
    func body(of request: Request) async throws -> Data {
        var request = request
        return Data(try await request.collectBody(upTo: Self.maxBody).readableBytesView)
    }

    /// Strict JSON decoding (`JSONBody`, the code the fuzz target exercises); its refusals are 400s.
    func decode<T: Decodable>(_ type: T.Type, from body: Data, allowed: Set<String>, allowEmpty: Bool = false) throws -> T {
        do {
            return try JSONBody.decode(type, from: body, allowed: allowed, allowEmpty: allowEmpty)
        } catch let error as JSONBodyError {
            throw APIError.invalidRequest(error.message)
        }
    }
}

extension Response {
    /// A JSON response with the API's date format (ISO 8601).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        // Answers carry keys and tokens: no cache between here and the client may keep them.
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
