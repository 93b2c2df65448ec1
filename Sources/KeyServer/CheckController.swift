import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let xDevInfraUser = Self("X-Dev-Infra-User")!
    static let xDevInfraKeyID = Self("X-Dev-Infra-Key-Id")!
    static let xDevInfraTeam = Self("X-Dev-Infra-Team")!
    static let xDevInfraScopes = Self("X-Dev-Infra-Scopes")!
    static let xDevInfraStatus = Self("X-Dev-Infra-Status")!
    static let xDevInfraCode = Self("X-Dev-Infra-Code")!
    static let xDevInfraProblem = Self("X-Dev-Infra-Problem")!
    static let xDevInfraRequireScope = Self("X-Dev-Infra-Require-Scope")!
    static let xDevInfraRequireTeam = Self("X-Dev-Infra-Require-Team")!
}

/// `/v1/check`: forward-auth for gateways (nginx `auth_request`, Traefik ForwardAuth, Caddy
/// `forward_auth`, Envoy ext_authz). The gateway forwards the client's `Authorization` or
/// `X-API-Key`; the required scope and team come from the gateway's configuration (query or
/// `X-Dev-Infra-Require-*` headers). Every method is answered, and any path below it, since
/// Envoy appends the client's path to its prefix.
///
/// 200 carries who the caller is in `X-Dev-Infra-*` headers for the upstream; a denial is the
/// API's own problem+json, `WWW-Authenticate` and `Retry-After`, repeated in `X-Dev-Infra-Status`,
/// `-Code` and `-Problem` headers, because nginx keeps only an auth subrequest's headers.
/// `compat=nginx` answers every other denial (400, 429, 503) as 403 (nginx's `auth_request` passes
/// on 401 and 403 only; anything else becomes its own 500), with the real status in
/// `X-Dev-Infra-Status`, and sends no body (nginx reads none, and drops the connection otherwise).
///
/// No gateway credential: the check tells no more than `/v1/whoami` tells the key's holder. It is
/// not throttled per client address either (behind a gateway every client shares one), so a
/// gateway should limit per client itself (`limit_req` in examples/nginx/dev-infra.conf).
struct CheckController {
    let services: Services
    let verifier: Verifier

    init(services: Services) {
        self.services = services
        verifier = Verifier(services: services)
    }
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    func register(_ v1: RouterGroup<ServerContext>) {
        for path in ["check", "check/**"] {
            for method in Self.methods { v1.on(RouterPath(path), method: method, use: check) }
        }
    }

    func check(_ request: Request, context: ServerContext) async throws -> Response {
        let started = ContinuousClock.now
        var nginx = false
        do {
            let requirements = try Self.requirements(request, nginx: &nginx)
            let client = context.client
            let budget = Authenticator.LookupBudget(limiter: services.unknownKeys, bucket: { "check " + ClientAddress.bucket(client) },
                                                    now: services.clock())
            let principal = try await verifier.admit(try await services.authenticator.principal(for: request, budget: budget), requirements)
            verifier.count("key.checked", by: nil, keyID: principal.keyID, principal: principal, code: nil, context: context)
            services.metrics.authDuration.record(since: started)
            return Self.allowed(principal, body: !nginx)
        } catch let error as APIError {
            verifier.count("key.checked", by: nil, keyID: AuthMiddleware.claimedKeyID(request), principal: nil, code: error.code, context: context)
            services.metrics.authFailure(error.code)
            return try Self.denied(error, nginx: nginx, request: request, context: context)
        } catch StorageError.unavailable {
            services.health.set(up: false)
            let error = APIError(.databaseUnavailable, "the database is not answering; retry shortly", retryAfter: 1)
            return try Self.denied(error, nginx: nginx, request: request, context: context)
        }
    }

    /// Query `scope`/`team` and `X-Dev-Infra-Require-*` headers, all of them required at once.
    /// Read on every request a gateway forwards, so the query is split by hand in one pass
    /// (Hummingbird's `queryParameters` builds a dictionary of every parameter).
    static func requirements(_ request: Request, nginx: inout Bool) throws -> Requirements {
        var requirements = Requirements()
        var scopes: [String] = request.headers[values: .xDevInfraRequireScope]
        var teams: [String] = request.headers[values: .xDevInfraRequireTeam]
        for pair in (request.uri.query ?? "").split(separator: "&") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = pair[..<equals]
            guard name == "scope" || name == "team" || name == "compat" else { continue }
            let raw = pair[pair.index(after: equals)...]
            let needsDecoding = raw.contains(where: { $0 == "%" || $0 == "+" })
            guard let value = needsDecoding ? IntrospectionController.formDecoded(raw) : String(raw) else {
                throw APIError.invalidRequest("the query holds a malformed %-escape")
            }
            switch name {
            case "scope": scopes.append(value)
            case "team": teams.append(value)
            default: nginx = nginx || value == "nginx"
            }
        }
        // An empty scope requirement is a gateway's configuration gone wrong (an unset variable), not "no scope".
        for text in scopes {
            guard text.contains(where: { $0 != " " && $0 != "," }) else { throw APIError.invalidRequest("a required scope is empty") }
            try requirements.addScopes(text, commas: true)
        }
        for text in teams { try requirements.addTeam(text) }
        return requirements
    }

    /// `body: false` for nginx: an auth subrequest reads headers only, and nginx closes an upstream
    /// connection whose body it did not read, so every check would be a new connection.
    static func allowed(_ p: Principal, body withBody: Bool = true) -> Response {
        // All four, empty when there is nothing to say: a gateway that copies them over the client's
        // (Envoy's allowed_upstream_headers) then replaces a forged copy instead of keeping it.
        var headers: HTTPFields = [.cacheControl: "no-store", .xDevInfraUser: p.user.name,
                                   .xDevInfraScopes: Scope.encode(p.scopes), .xDevInfraKeyID: p.keyID ?? "", .xDevInfraTeam: p.team ?? ""]
        guard withBody else { return Response(status: .ok, headers: headers, body: .init()) }
        headers[.contentType] = "application/json"
        var body = "{"
        if let expiresAt = p.expiresAt { body += "\"expires_at\":" + JSONText.quoted(JSONText.iso8601(expiresAt)) + "," }
        if let keyID = p.keyID { body += "\"key_id\":" + JSONText.quoted(keyID) + "," }
        body += "\"kind\":" + JSONText.quoted(p.kind.rawValue)
        body += ",\"scopes\":[" + p.scopes.sorted().map { JSONText.quoted($0.rawValue) }.joined(separator: ",") + "]"
        body += ",\"state\":" + JSONText.quoted(p.state)
        if let team = p.team { body += ",\"team\":" + JSONText.quoted(team) }
        body += ",\"user\":" + JSONText.quoted(p.user.name) + "}"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func denied(_ error: APIError, nginx: Bool, request: Request, context: ServerContext) throws -> Response {
        var response = try error.response(from: request, context: context)
        let problem = try error.problem(requestID: context.requestID)
        response.headers[.xDevInfraStatus] = String(error.status.code)
        response.headers[.xDevInfraCode] = error.code
        response.headers[.xDevInfraProblem] = JSONText.ascii(String(decoding: problem, as: UTF8.self))
        guard nginx else { return response }
        if error.status != .unauthorized, error.status != .forbidden { response.status = .forbidden }
        // Headers only (see `allowed`): the problem is in X-Dev-Infra-Problem.
        response.headers[.contentType] = nil
        response.body = .init()
        return response
    }
}

extension JSONText {
    /// JSON text with every non-ASCII character as a `\u` escape (UTF-16, surrogate pairs), so
    /// that it fits an HTTP header; the same JSON value.
    static func ascii(_ json: String) -> String {
        guard json.utf8.contains(where: { $0 >= 0x7F }) else { return json }
        var out = ""
        for unit in json.utf16 {
            if unit < 0x7F { out.unicodeScalars.append(Unicode.Scalar(UInt8(unit))) } else { out += String(format: "\\u%04x", unit) }
        }
        return out
    }
}
