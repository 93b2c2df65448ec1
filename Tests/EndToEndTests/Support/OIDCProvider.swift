import Foundation
import JWTKit
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small OpenID provider for the tests, on 127.0.0.1 and a free port, playing GitHub Actions:
/// discovery (`issuer` is its own `http://127.0.0.1:PORT`), its JWKS, and the job's token endpoint
/// (`GET /token?audience=AUD` with `Authorization: bearer <requestToken>` → `{"value": "<JWT>"}`).
///
/// It signs with an RSA key (RS256), and can rotate to a new RSA key or switch to an ES256 one
/// (a new kid each time; the JWKS then lists only the new key). Requests are answered on NIO's
/// event loop threads, synchronously: never on Swift's cooperative pool, which a test blocked
/// in `Process.waitUntilExit` may be holding while the server asks this provider for its keys.
final class OIDCProvider: Sendable {
    /// A claim's value: JSON string, integer, bool or list of strings; `absent` removes the claim.
    enum Claim: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
                ExpressibleByArrayLiteral {
        case string(String), int(Int), bool(Bool), strings([String]), absent

        init(stringLiteral value: String) { self = .string(value) }
        init(integerLiteral value: Int) { self = .int(value) }
        init(booleanLiteral value: Bool) { self = .bool(value) }
        init(arrayLiteral elements: String...) { self = .strings(elements) }

        var json: Any? {
            switch self {
            case .string(let value): return value
            case .int(let value): return value
            case .bool(let value): return value
            case .strings(let values): return values
            case .absent: return nil
            }
        }
    }

    /// A signing key: its kid, its algorithm, jwt-kit's signer and its public JWK.
    struct Signer: Sendable {
        let kid: String
        let algorithm: String
        let key: any JWTAlgorithm
        let jwk: [String: String]
    }

    /// What was asked of the provider.
    struct Requests: Sendable, Equatable {
        var discovery = 0
        var jwks = 0
        /// Tokens handed out by the token endpoint.
        var token = 0
        /// Token requests refused (no or a wrong request token).
        var refused = 0
    }

    private struct State: Sendable {
        var signer: Signer
        var issuer = ""
        var tokenChanges: [String: Claim] = [:]
        var requests = Requests()
    }

    let port: Int
    /// `http://127.0.0.1:PORT`: the tokens' `iss` and the discovery document's `issuer`.
    let issuer: String
    /// What GitHub puts in `ACTIONS_ID_TOKEN_REQUEST_TOKEN`: the token endpoint's bearer.
    let requestToken: String
    private let state: NIOLockedValueBox<State>
    private let channel: any Channel

    private init(port: Int, issuer: String, requestToken: String, state: NIOLockedValueBox<State>, channel: any Channel) {
        self.port = port
        self.issuer = issuer
        self.requestToken = requestToken
        self.state = state
        self.channel = channel
    }

    deinit { channel.close(promise: nil) }

    /// Listening, with a fresh RSA key.
    static func start() async throws -> OIDCProvider {
        let state = NIOLockedValueBox(State(signer: try await rsaSigner()))
        let requestToken = "gha-request-" + UUID().uuidString
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state, requestToken: requestToken))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else {
            channel.close(promise: nil)
            throw ProviderError(text: "the provider's socket has no port")
        }
        let issuer = "http://127.0.0.1:\(port)"
        state.withLockedValue { $0.issuer = issuer }
        return OIDCProvider(port: port, issuer: issuer, requestToken: requestToken, state: state, channel: channel)
    }

    func stop() { channel.close(promise: nil) }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL` (with a query of its own, as GitHub's has) and `..._TOKEN`.
    var actionsEnvironment: [String: String] {
        ["ACTIONS_ID_TOKEN_REQUEST_URL": issuer + "/token?x=1", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": requestToken]
    }

    /// The key tokens are signed with now.
    var signer: Signer { state.withLockedValue { $0.signer } }
    var requests: Requests { state.withLockedValue { $0.requests } }

    /// A new RSA key with a new kid; the old one leaves the JWKS.
    func rotate() async throws {
        let signer = try await Self.rsaSigner()
        state.withLockedValue { $0.signer = signer }
    }

    /// A new P-256 key (ES256) with a new kid; the old one leaves the JWKS.
    func useES256() async throws {
        let signer = try await Self.es256Signer()
        state.withLockedValue { $0.signer = signer }
    }

    /// Changes the token endpoint makes to the job's claims from now on (`["ref": "refs/heads/feature"]`).
    func setTokenEndpointChanges(_ changes: [String: Claim]) {
        state.withLockedValue { $0.tokenChanges = changes }
    }

    /// A GitHub Actions job's token for `audience`, signed now (by `signer`, or the current key),
    /// with `changes` made to its claims.
    func jobToken(audience: String = "dev-infra", _ changes: [String: Claim] = [:], signer: Signer? = nil) throws -> String {
        try sign(Self.jobClaims(issuer: issuer, audience: audience, changes), signer: signer ?? self.signer)
    }

    /// Exactly `claims`, signed (by `signer`, or the current key).
    func sign(_ claims: [String: Claim], signer: Signer? = nil) throws -> String {
        try Self.sign(claims, with: signer ?? self.signer)
    }

    /// The claims GitHub Actions gives a push to main of acme/web, deploying to production; fresh
    /// `jti`, issued now, valid for 5 minutes.
    static func jobClaims(issuer: String, audience: String, _ changes: [String: Claim] = [:]) -> [String: Claim] {
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: Claim] = [
            "iss": .string(issuer), "aud": .string(audience), "sub": "repo:acme/web:ref:refs/heads/main",
            "repository": "acme/web", "repository_owner": "acme", "repository_id": "4242", "repository_visibility": "private",
            "ref": "refs/heads/main", "ref_type": "branch", "sha": "0123456789abcdef0123456789abcdef01234567",
            "environment": "production", "workflow": "deploy", "job_workflow_ref": "acme/web/.github/workflows/deploy.yml@refs/heads/main",
            "run_id": "9876543210", "run_number": "12", "run_attempt": "1", "actor": "octocat", "event_name": "push",
            "jti": .string(UUID().uuidString), "iat": .int(now), "nbf": .int(now), "exp": .int(now + 300),
        ]
        for (name, value) in changes { claims[name] = value == .absent ? nil : value }
        return claims
    }

    static func sign(_ claims: [String: Claim], with signer: Signer) throws -> String {
        let header: [String: Any] = ["alg": signer.algorithm, "kid": signer.kid, "typ": "JWT"]
        let payload = claims.compactMapValues(\.json)
        let input = base64URL(try json(header)) + "." + base64URL(try json(payload))
        let signature = try signer.key.sign(Array(input.utf8))
        return input + "." + base64URL(Data(signature))
    }

    static func json(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    struct ProviderError: Error, CustomStringConvertible {
        let text: String
        var description: String { text }
    }

    // MARK: Keys

    /// A 2048-bit RSA key from openssl (jwt-kit reads keys; it does not make RSA ones).
    static func rsaSigner() async throws -> Signer {
        let generated = try Run.process("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                                        environment: ["PATH": "/usr/bin:/bin"])
        guard generated.status == 0 else { throw ProviderError(text: "openssl genpkey: \(generated.stderr)") }
        let privateKey = try Insecure.RSA.PrivateKey(pem: generated.stdout)
        let kid = "rsa-" + UUID().uuidString.prefix(8).lowercased()
        let collection = JWTKeyCollection()
        await collection.add(rsa: privateKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        let key = try await collection.getKey(for: JWKIdentifier(string: kid))
        let (modulus, exponent) = try privateKey.publicKey.getKeyPrimitives()
        return Signer(kid: kid, algorithm: "RS256", key: key,
                      jwk: ["kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": base64URL(modulus), "e": base64URL(exponent)])
    }

    static func es256Signer() async throws -> Signer {
        let privateKey = ES256PrivateKey()
        guard let parameters = privateKey.publicKey.parameters else { throw ProviderError(text: "no P-256 coordinates") }
        let kid = "es-" + UUID().uuidString.prefix(8).lowercased()
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: privateKey, kid: JWKIdentifier(string: kid))
        let key = try await collection.getKey(for: JWKIdentifier(string: kid))
        return Signer(kid: kid, algorithm: "ES256", key: key,
                      jwk: ["kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid, "x": parameters.x, "y": parameters.y])
    }

    // MARK: HTTP

    /// The answer to one request: status and JSON body.
    private static func answer(_ head: HTTPRequestHead, state: NIOLockedValueBox<State>, requestToken: String) -> (HTTPResponseStatus, Any) {
        guard head.method == .GET else { return (.methodNotAllowed, ["message": "GET only"]) }
        let components = URLComponents(string: "http://provider" + head.uri)
        let path = components?.path ?? ""
        switch path {
        case "/.well-known/openid-configuration":
            let issuer = state.withLockedValue { $0.requests.discovery += 1; return $0.issuer }
            let document: [String: Any] = [
                "issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks", "subject_types_supported": ["public", "pairwise"],
                "response_types_supported": ["id_token"], "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "environment"],
            ]
            return (.ok, document)
        case "/.well-known/jwks":
            let jwk = state.withLockedValue { $0.requests.jwks += 1; return $0.signer.jwk }
            return (.ok, ["keys": [jwk]])
        case "/token":
            let authorization = head.headers.first(name: "Authorization") ?? ""
            let parts = authorization.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0].lowercased() == "bearer", parts[1] == requestToken else {
                state.withLockedValue { $0.requests.refused += 1 }
                return (.unauthorized, ["message": "Bad credentials"])
            }
            // GitHub's default audience is the owner's URL; `audience` chooses another.
            let audience = components?.queryItems?.first { $0.name == "audience" }?.value ?? "https://github.com/acme"
            let (issuer, signer, changes) = state.withLockedValue { current in
                current.requests.token += 1
                return (current.issuer, current.signer, current.tokenChanges)
            }
            guard let token = try? sign(jobClaims(issuer: issuer, audience: audience, changes), with: signer) else {
                return (.internalServerError, ["message": "signing failed"])
            }
            let reply: [String: Any] = ["count": 1, "value": token]
            return (.ok, reply)
        default:
            return (.notFound, ["message": "Not Found"])
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let state: NIOLockedValueBox<State>
        private let requestToken: String
        private var head: HTTPRequestHead?

        init(state: NIOLockedValueBox<State>, requestToken: String) {
            self.state = state
            self.requestToken = requestToken
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
            case .body:
                break
            case .end:
                guard let head else { return }
                self.head = nil
                let (status, object) = OIDCProvider.answer(head, state: state, requestToken: requestToken)
                let body = (try? OIDCProvider.json(object)) ?? Data("{}".utf8)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(body.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
