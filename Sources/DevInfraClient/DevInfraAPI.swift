import AsyncHTTPClient
import NIOSSL
import DevInfraCore
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

public typealias KeyInfo = Components.Schemas.Key
public typealias CreatedKey = Components.Schemas.CreatedKey
public typealias Whoami = Components.Schemas.Whoami
public typealias CheckResult = Components.Schemas.Check
public typealias IntegrationInfo = Components.Schemas.Integration
public typealias TrustPolicyInfo = Components.Schemas.TrustPolicy
public typealias SwitchState = Components.Schemas.SwitchState
public typealias ExchangedKey = Components.Schemas.ExchangedKey
public typealias RateLimitInfo = Components.Schemas.RateLimit
public typealias QuotaInfo = Components.Schemas.Quota

/// The key-management API as the CLI uses it: a hand-written face over the client generated from
/// `openapi.yaml`, with the credential, retries, timeouts and error mapping as middleware.
public struct DevInfraAPI: Sendable {
    public struct Options: Sendable {
        public var connectTimeout: Double = 5
        public var requestTimeout: Double = 30
        public var attempts = 3
        public var firstRetryDelay: Duration = .milliseconds(200)
        public var verbose: (@Sendable (String) -> Void)?
        /// The largest answer read from the server; a bigger one is an error, not a memory spike.
        public var maxResponseBytes = 8 << 20
        /// PEM certificates of a private CA, trusted besides the system's store.
        public var caCertificatePath: String?
        /// The most pages `listKeys` follows: a server that never stops paging is an error.
        public var maxPages = 1000
        public init() {}
    }

    public let serverURL: String
    let client: Client
    let http: HTTPClient
    let credential: String?
    let options: Options

    /// `serverURL` must already be checked (https, or http to loopback) by the caller.
    public init(serverURL: String, credential: String?, options: Options = Options()) throws {
        self.serverURL = serverURL
        self.credential = credential
        self.options = options
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .milliseconds(Int64(options.connectTimeout * 1000)),
                                      read: .milliseconds(Int64(options.requestTimeout * 1000)))
        configuration.redirectConfiguration = .disallow
        // Certificates are always verified, against the system's store and a private CA if one
        // is named; there is no switch that turns verification off.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        if let path = options.caCertificatePath {
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
                throw GenericError(.invalidArgument, "cannot read PEM certificates from \(path) (DEV_INFRA_CA_CERT or the profile's ca_cert)")
            }
            tls.additionalTrustRoots = [.certificates(certificates)]
        }
        configuration.tlsConfiguration = tls
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        guard let url = URL(string: serverURL) else {
            throw GenericError(.invalidArgument, "invalid server URL \"\(serverURL.prefix(200))\"")
        }
        var middlewares: [any ClientMiddleware] = [ResponseLimitMiddleware(maxBytes: options.maxResponseBytes), ProblemMiddleware(),
                                                   RetryMiddleware(attempts: options.attempts, firstDelay: options.firstRetryDelay),
                                                   CredentialMiddleware(credential: credential)]
        if let verbose = options.verbose { middlewares.append(VerboseMiddleware(log: verbose)) }
        client = Client(serverURL: url,
                        transport: AsyncHTTPClientTransport(configuration: .init(client: http, timeout: .seconds(Int64(options.requestTimeout)))),
                        middlewares: middlewares)
    }

    /// Runs `body` with a client and shuts its connections down after, whatever happens.
    public static func with<T: Sendable>(serverURL: String, credential: String?, options: Options = Options(),
                                          _ body: (DevInfraAPI) async throws -> T) async throws -> T {
        let api = try DevInfraAPI(serverURL: serverURL, credential: credential, options: options)
        do {
            let result = try await api.call { try await body(api) }
            try? await api.http.shutdown()
            return result
        } catch {
            try? await api.http.shutdown()
            throw error
        }
    }

    /// Unwraps the generator's `ClientError` into what went wrong.
    func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ClientError {
            throw map(error.underlyingError)
        } catch let error as RemoteError {
            throw error
        }
    }

    func map(_ error: any Error) -> any Error {
        if let remote = error as? RemoteError { return remote }
        if error is NIOTooManyBytesError || error is ResponseTooLarge {
            return RemoteError.unexpected(status: 200, detail: "the answer is larger than \(options.maxResponseBytes) bytes; not read")
        }
        if let client = error as? ClientError { return map(client.underlyingError) }
        if let tls = RemoteError.tlsFailure(error, url: serverURL) { return tls }
        if let http = error as? HTTPClientError {
            if http == .readTimeout || http == .deadlineExceeded || http == .connectTimeout {
                return RemoteError.timedOut(url: serverURL, seconds: options.requestTimeout)
            }
            return RemoteError.unreachable(url: serverURL, detail: "\(http)".contains("Connection refused") ? "connection refused" : "\(http)")
        }
        if RetryMiddleware.isConnectFailure(error) && !(error is HTTPClientError) {
            return RemoteError.unreachable(url: serverURL, detail: "connection refused")
        }
        if error is DecodingError { return RemoteError.unexpected(status: 200, detail: "the answer did not match the API") }
        return RemoteError.unreachable(url: serverURL, detail: String(describing: error))
    }

    // MARK: Operations

    public func whoami() async throws -> Whoami {
        try await call { try await client.whoami().ok.body.json }
    }

    public func signIn(username: String, password: String) async throws -> String {
        try await call { try await client.signIn(body: .json(.init(username: username, password: password))).ok.body.json.accessToken }
    }

    /// `GET /v1/check` with this client's credential: whether it is good for `scopes` and `team`.
    public func check(scopes: [String], team: String?) async throws -> CheckResult {
        let scopes = try Self.scopes(scopes)
        return try await call { try await client.check(query: .init(scope: scopes.isEmpty ? nil : scopes, team: team)).ok.body.json }
    }

    static func scopes(_ names: [String]) throws -> [Components.Schemas.Scope] {
        try names.map { name in
            guard let scope = Components.Schemas.Scope(rawValue: name) else {
                throw GenericError(.invalidArgument, "unknown scope \"\(name)\"; known: \(Components.Schemas.Scope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return scope
        }
    }

    /// With `integration` (`TEAM/NAME`), the key belongs to that integration, not to the caller.
    public func createKey(name: String, scopes: [String], team: String?, expiresIn: Int?, integration: String? = nil,
                          rateLimit: RateSpec? = nil, quota: QuotaSpec? = nil,
                          idempotencyKey: String = UUID().uuidString) async throws -> CreatedKey {
        let scopes = try Self.scopes(scopes)
        let body = Components.Schemas.CreateKey(name: name, scopes: scopes, team: team, expiresIn: expiresIn, integration: integration,
                                                rateLimit: rateLimit.map(Self.rateLimit), quota: quota.map(Self.quota))
        return try await call {
            try await client.createKey(headers: .init(idempotencyKey: idempotencyKey), body: .json(body)).created.body.json
        }
    }

    /// What `PATCH /v1/keys/{id}` changes; nil fields stay as they are.
    public struct KeyChanges: Sendable {
        public var name: String?
        public var scopes: [String]?
        public var expiresIn: Int?
        public var rateLimit: RateSpec?
        public var quota: QuotaSpec?
        public var resetQuota = false
        public init() {}
        public var isEmpty: Bool { name == nil && scopes == nil && expiresIn == nil && rateLimit == nil && quota == nil && !resetQuota }
    }

    /// Narrows a key in place; the server refuses any widening a non-admin asks for.
    public func updateKey(id: String, _ changes: KeyChanges) async throws -> KeyInfo {
        let scopes = try changes.scopes.map(Self.scopes)
        let body = Components.Schemas.UpdateKey(name: changes.name, scopes: scopes, expiresIn: changes.expiresIn,
                                                rateLimit: changes.rateLimit.map(Self.rateLimit), quota: changes.quota.map(Self.quota),
                                                resetQuota: changes.resetQuota ? true : nil)
        return try await call { try await client.updateKey(path: .init(id: id), body: .json(body)).ok.body.json }
    }

    static func rateLimit(_ rate: RateSpec) -> Components.Schemas.RateLimit {
        .init(limit: rate.limit, windowSeconds: rate.windowSeconds)
    }

    static func rateLimit(_ rate: RateSpec) -> Components.Schemas.RateLimitRequest {
        .init(limit: rate.limit, windowSeconds: rate.windowSeconds)
    }

    static func quota(_ quota: QuotaSpec) -> Components.Schemas.QuotaRequest {
        .init(limit: quota.limit, period: period(quota.period))
    }

    static func quota(_ quota: QuotaSpec) -> Components.Schemas.NewQuota {
        .init(limit: quota.limit, period: period(quota.period))
    }

    static func period(_ period: QuotaSpec.Period) -> Components.Schemas.QuotaPeriod {
        switch period {
        case .day: .day
        case .month: .month
        case .total: .total
        }
    }

    /// Every page, following `next_cursor` to the end: at most `maxPages`, and only forward (a
    /// cursor that does not advance would loop for ever).
    public func listKeys(all: Bool, team: String?) async throws -> [KeyInfo] {
        var keys: [KeyInfo] = []
        var cursor: String?
        var pages = 0
        repeat {
            pages += 1
            guard pages <= options.maxPages else {
                throw RemoteError.unexpected(status: 200, detail: "the server kept paging past \(options.maxPages) pages; stopped")
            }

            let page = try await call {
                try await client.listKeys(query: .init(all: all ? true : nil, team: team, cursor: cursor, limit: 200)).ok.body.json
            }
            keys += page.items
            if let next = page.nextCursor, let cursor, next <= cursor {
                throw RemoteError.unexpected(status: 200, detail: "the server's next_cursor did not advance; stopped")
            }
            cursor = page.nextCursor
        } while cursor != nil
        return keys
    }

    public func key(id: String) async throws -> KeyInfo {
        try await call { try await client.getKey(path: .init(id: id)).ok.body.json }
    }

    public func revoke(id: String, reason: String?) async throws -> KeyInfo {
        try await call {
            try await client.revokeKey(path: .init(id: id), body: .json(.init(reason: reason))).ok.body.json
        }
    }

    public func rotate(id: String, graceSeconds: Int?, idempotencyKey: String = UUID().uuidString) async throws -> CreatedKey {
        try await call {
            try await client.rotateKey(path: .init(id: id), headers: .init(idempotencyKey: idempotencyKey),
                                       body: .json(.init(graceSeconds: graceSeconds))).created.body.json
        }
    }

    // MARK: Integrations

    /// `id` is `TEAM/NAME`; the CLI says so before asking when it is not.
    static func integrationPath(_ id: String) throws -> (team: String, name: String) {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw GenericError(.invalidArgument, "\"\(Printable.escaped(String(id.prefix(200))))\" is not an integration: give TEAM/NAME, as in web/deploy-bot")
        }
        return (String(parts[0]), String(parts[1]))
    }

    public func createIntegration(id: String, scopes: [String], rateLimit: RateSpec?) async throws -> IntegrationInfo {
        let (team, name) = try Self.integrationPath(id)
        let scopes = try scopes.map { name in
            guard let scope = Components.Schemas.IntegrationScope(rawValue: name) else {
                throw GenericError(.invalidArgument, "an integration cannot be allowed \"\(Printable.escaped(String(name.prefix(100))))\"; allowed: "
                    + Components.Schemas.IntegrationScope.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return scope
        }
        let body = Components.Schemas.CreateIntegration(team: team, name: name, scopes: scopes, rateLimit: rateLimit.map(Self.rateLimit))
        return try await call { try await client.createIntegration(body: .json(body)).created.body.json }
    }

    public func listIntegrations(team: String?) async throws -> [IntegrationInfo] {
        try await call { try await client.listIntegrations(query: .init(team: team)).ok.body.json.items }
    }

    public func integration(id: String) async throws -> IntegrationInfo {
        let (team, name) = try Self.integrationPath(id)
        return try await call { try await client.getIntegration(path: .init(team: team, name: name)).ok.body.json }
    }

    /// Deletes the integration; the server revokes every key of it.
    public func deleteIntegration(id: String) async throws -> IntegrationInfo {
        let (team, name) = try Self.integrationPath(id)
        return try await call { try await client.deleteIntegration(path: .init(team: team, name: name)).ok.body.json }
    }

    // MARK: Kill switches

    /// What `disable` and `enable` switch: exactly one of a user, an integration and a team.
    public enum SwitchTarget: Sendable, Equatable {
        case user(String)
        case integration(String)
        case team(String)

        var body: (user: String?, integration: String?, team: String?) {
            switch self {
            case .user(let name): (name, nil, nil)
            case .integration(let id): (nil, id, nil)
            case .team(let name): (nil, nil, name)
            }
        }
    }

    public func disable(_ target: SwitchTarget, reason: String?) async throws -> SwitchState {
        let (user, integration, team) = target.body
        let body = Components.Schemas.SwitchTarget(user: user, integration: integration, team: team, reason: reason)
        return try await call { try await client.disable(body: .json(body)).ok.body.json }
    }

    public func enable(_ target: SwitchTarget, reason: String?) async throws -> SwitchState {
        let (user, integration, team) = target.body
        let body = Components.Schemas.SwitchTarget(user: user, integration: integration, team: team, reason: reason)
        return try await call { try await client.enable(body: .json(body)).ok.body.json }
    }

    // MARK: OIDC

    /// `POST /v1/auth/oidc`: a CI job's OIDC token for a short-lived key. Call it on a client made
    /// without a credential: the token is the credential.
    public func exchangeOIDC(token: String, policy: String?) async throws -> ExchangedKey {
        try await call { try await client.exchangeOidcToken(body: .json(.init(token: token, policy: policy))).created.body.json }
    }

    /// A trust policy to create; see `POST /v1/oidc/policies`.
    public struct NewTrustPolicy: Sendable {
        public var name: String
        public var issuer: String
        public var audience: String
        public var claims: [String: String]
        public var integration: String
        public var scopes: [String]
        public var lifetimeSeconds: Int?
        public init(name: String, issuer: String, audience: String, claims: [String: String], integration: String, scopes: [String],
                    lifetimeSeconds: Int?) {
            self.name = name
            self.issuer = issuer
            self.audience = audience
            self.claims = claims
            self.integration = integration
            self.scopes = scopes
            self.lifetimeSeconds = lifetimeSeconds
        }
    }

    public func createPolicy(_ policy: NewTrustPolicy) async throws -> TrustPolicyInfo {
        let scopes = try Self.scopes(policy.scopes)
        let body = Components.Schemas.CreateTrustPolicy(name: policy.name, issuer: policy.issuer, audience: policy.audience,
                                                        claims: .init(additionalProperties: policy.claims), integration: policy.integration,
                                                        scopes: scopes, lifetimeSeconds: policy.lifetimeSeconds)
        return try await call { try await client.createTrustPolicy(body: .json(body)).created.body.json }
    }

    public func listPolicies() async throws -> [TrustPolicyInfo] {
        try await call { try await client.listTrustPolicies().ok.body.json.items }
    }

    public func deletePolicy(name: String) async throws -> TrustPolicyInfo {
        try await call { try await client.deleteTrustPolicy(path: .init(name: name)).ok.body.json }
    }

    // MARK: Device authorization grant (RFC 8628), for `login --web`

    /// `POST /v1/device/code`: a device code for this client, and the user code a person approves
    /// in a browser. No credential is sent.
    public func requestDeviceCode(clientID: String, scope: String, machine: String) async throws -> DeviceAuthorization {
        let (status, headers, body) = try await postForm("/v1/device/code", [("client_id", clientID), ("scope", scope), ("machine", machine)])
        guard status == 200 else { throw Self.deviceError(status: status, retryAfter: headers.first(name: "Retry-After"), body: body) }
        guard let authorization = try? JSONDecoder().decode(DeviceAuthorization.self, from: body),
              !authorization.deviceCode.isEmpty, !authorization.userCode.isEmpty, !authorization.verificationURI.isEmpty,
              authorization.expiresIn > 0 else {
            throw RemoteError.unexpected(status: status, detail: "the answer to POST /v1/device/code is not a device authorization (RFC 8628)")
        }
        return authorization
    }

    /// `POST /v1/device/token`, once: the key when the code was approved, or where the grant stands.
    /// Answers other than RFC 6749 error objects (problem+json of a 429 or a 503) are thrown.
    public func pollDeviceToken(deviceCode: String, clientID: String) async throws -> DeviceTokenAnswer {
        let (status, headers, body) = try await postForm("/v1/device/token", [("grant_type", Self.deviceGrantType),
                                                                              ("device_code", deviceCode), ("client_id", clientID)])
        if status == 200 {
            struct Issued: Decodable {
                struct Key: Decodable { var id: String?; var name: String? }
                var accessToken: String
                var key: Key?
                enum CodingKeys: String, CodingKey { case accessToken = "access_token", key }
            }
            guard let issued = try? JSONDecoder().decode(Issued.self, from: body), !issued.accessToken.isEmpty else {
                throw RemoteError.unexpected(status: status, detail: "the answer to POST /v1/device/token holds no access_token")
            }
            return .issued(accessToken: issued.accessToken, keyID: issued.key?.id, keyName: issued.key?.name)
        }
        guard let error = Self.oauthError(body) else { throw Self.deviceError(status: status, retryAfter: headers.first(name: "Retry-After"), body: body) }
        switch error.error {
        case "authorization_pending": return .pending
        case "slow_down": return .slowDown
        case "access_denied": return .denied
        case "expired_token": return .expired
        default: return .refused(status: status, error: error.error, description: error.description)
        }
    }

    /// RFC 8628 §3.4's grant type.
    public static let deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

    /// An RFC 6749 §5.2 error object, when `body` is one with a well-formed `error`.
    static func oauthError(_ body: Data) -> (error: String, description: String?)? {
        struct OAuthError: Decodable {
            var error: String
            var errorDescription: String?
            enum CodingKeys: String, CodingKey { case error, errorDescription = "error_description" }
        }
        guard let object = try? JSONDecoder().decode(OAuthError.self, from: body),
              (1...64).contains(object.error.utf8.count),
              object.error.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_") }) else { return nil }
        return (object.error, object.errorDescription)
    }

    /// A refusal of a device endpoint: the RFC 6749 `error` as the code, or the server's problem+json.
    static func deviceError(status: Int, retryAfter: String?, body: Data) -> RemoteError {
        if let error = oauthError(body) {
            return .problem(status: status, code: error.error, detail: error.description ?? "the server answered \(error.error)",
                            scope: nil, retryAfter: retryAfter.flatMap { Int($0) })
        }
        var fields = HTTPFields()
        if let retryAfter { fields[.retryAfter] = retryAfter }
        return RemoteError.from(status: status, headers: fields, body: body)
    }

    /// A form POST (`application/x-www-form-urlencoded`) to the API through this client's HTTP
    /// client: its TLS, timeouts and answer-size bound, no credential, no retries. `--verbose`
    /// shows the method, URL and status only: the form holds the device code.
    func postForm(_ path: String, _ fields: [(String, String)]) async throws -> (status: Int, headers: HTTPHeaders, body: Data) {
        let url = serverURL + path
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.formEncoded(fields)))
        options.verbose?("> POST \(url)")
        let started = Date()
        do {
            let response = try await http.execute(request, timeout: .seconds(Int64(options.requestTimeout)))
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > options.maxResponseBytes {
                throw ResponseTooLarge()
            }
            let data = Data(try await response.body.collect(upTo: options.maxResponseBytes).readableBytesView)
            options.verbose?("< \(response.status.code) \(response.status.reasonPhrase) (\(Int(Date().timeIntervalSince(started) * 1000)) ms)")
            return (Int(response.status.code), response.headers, data)
        } catch {
            options.verbose?("< failed after \(Int(Date().timeIntervalSince(started) * 1000)) ms")
            throw map(error)
        }
    }

    /// `application/x-www-form-urlencoded` as the WHATWG URL standard writes it: UTF-8, `*-._`
    /// and alphanumerics as they are, space as `+`, every other byte percent-encoded.
    public static func formEncoded(_ fields: [(String, String)]) -> String {
        func encode(_ text: String) -> String {
            var out = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                case UInt8(ascii: " "):
                    out += "+"
                default:
                    let hex: [Unicode.Scalar] = Array("0123456789ABCDEF".unicodeScalars)
                    let escaped: [Unicode.Scalar] = ["%", hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                    out.unicodeScalars.append(contentsOf: escaped)
                }
            }
            return out
        }
        return fields.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    /// A GET to a URL outside the API (the GitHub Actions OIDC token endpoint), with this client's
    /// TLS, timeouts and answer-size bound: the status and the body. Nothing of the credential is sent.
    public static func fetch(url: String, headers: [(name: String, value: String)], options: Options = Options()) async throws -> (status: Int, body: Data) {
        try await with(serverURL: url, credential: nil, options: options) { api in
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            for header in headers { request.headers.add(name: header.name, value: header.value) }
            options.verbose?("> GET \(url)")
            do {
                let response = try await api.http.execute(request, timeout: .seconds(Int64(options.requestTimeout)))
                let data = Data(try await response.body.collect(upTo: options.maxResponseBytes).readableBytesView)
                options.verbose?("< \(response.status.code)")
                return (Int(response.status.code), data)
            } catch {
                throw api.map(error)
            }
        }
    }

    /// Any endpoint, for `dev-infra api`: the status, and the body as the server sent it.
    public func raw(method: String, path: String, body: Data?) async throws -> (status: Int, body: Data) {
        let url = serverURL + (path.hasPrefix("/") ? path : "/" + path)
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.uppercased())
        if let credential { request.headers.add(name: "Authorization", value: "Bearer \(credential)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        options.verbose?("> \(method.uppercased()) \(url)")
        if let credential { options.verbose?("> authorization: \(VerboseMiddleware.mask("Bearer \(credential)"))") }
        do {
            let response = try await http.execute(request, timeout: .seconds(Int64(options.requestTimeout)))
            let data = Data(try await response.body.collect(upTo: options.maxResponseBytes).readableBytesView)
            options.verbose?("< \(response.status.code)")
            return (Int(response.status.code), data)
        } catch {
            throw map(error)
        }
    }
}

/// `POST /v1/device/code`'s answer (RFC 8628 §3.2).
public struct DeviceAuthorization: Sendable, Equatable, Decodable {
    public var deviceCode: String
    /// What the person types or confirms in the browser, as `WDJB-MJHT`.
    public var userCode: String
    public var verificationURI: String
    /// The verification URI with the user code filled in, when the server gives one.
    public var verificationURIComplete: String?
    /// Seconds the device code lives.
    public var expiresIn: Int
    /// Seconds to wait between polls; RFC 8628 says 5 when absent.
    public var interval: Int?

    enum CodingKeys: String, CodingKey {
        case deviceCode = "device_code", userCode = "user_code", verificationURI = "verification_uri"
        case verificationURIComplete = "verification_uri_complete", expiresIn = "expires_in", interval
    }

    public init(deviceCode: String, userCode: String, verificationURI: String, verificationURIComplete: String?, expiresIn: Int, interval: Int?) {
        self.deviceCode = deviceCode
        self.userCode = userCode
        self.verificationURI = verificationURI
        self.verificationURIComplete = verificationURIComplete
        self.expiresIn = expiresIn
        self.interval = interval
    }
}

/// Where a device grant stands after one poll of `POST /v1/device/token` (RFC 8628 §3.5).
public enum DeviceTokenAnswer: Sendable, Equatable {
    /// Approved: the new key, given once, with its id and name when the server says them.
    case issued(accessToken: String, keyID: String?, keyName: String?)
    /// `authorization_pending`: nobody approved or denied yet.
    case pending
    /// `slow_down`: polled too soon; wait 5 s longer from now on.
    case slowDown
    /// `access_denied`
    case denied
    /// `expired_token`: the code expired, or its key was already delivered.
    case expired
    /// Any other RFC 6749 error (`invalid_grant`, `invalid_client`, `unsupported_grant_type`, ...).
    case refused(status: Int, error: String, description: String?)
}
