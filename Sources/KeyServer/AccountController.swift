@preconcurrency import Crypto
import DevInfraCore
import Foundation
import HummingbirdBcrypt
import Hummingbird
import NIOPosix

/// Sign-in for humans (password → 15-minute JWT) and `whoami`.
struct AccountController {
    let services: Services

    struct TokenBody: Decodable { var username: String; var password: String }
    struct TokenView: Encodable {
        var accessToken: String
        var tokenType = "Bearer"
        var expiresIn = Int(JWTSigner.lifetime)
        enum CodingKeys: String, CodingKey { case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in" }
    }

    /// Compared against when the user does not exist or has no password, so that an unknown
    /// name costs the same bcrypt as a known one and timing does not tell which names exist.
    static let dummyHash = Bcrypt.hash("dev-infra: no such user", cost: 10)

    /// Unauthenticated. Throttled by client address and by username before bcrypt runs and before
    /// anything is written; a wrong user and a wrong password read the same and cost the same.
    func token(_ request: Request, context: ServerContext) async throws -> Response {
        let input = try await services.decode(TokenBody.self, from: request, allowed: ["username", "password"])
        let user = try await checkPassword(username: input.username, password: input.password, context: context, credential: "password")
        return try .json(TokenView(accessToken: try JWTSigner(secrets: services.secrets).sign(user: user, now: services.clock())))
    }

    /// The user whose password this is, for the API's sign-in and the pages' (`credential` says
    /// which, in the audit): throttled by client address and by username before bcrypt runs and
    /// before anything is written; a wrong user and a wrong password read the same and cost the same.
    func checkPassword(username: String, password: String, context: ServerContext, credential: String) async throws -> User {
        let input = (username: username, password: password)
        guard input.password.utf8.count <= 1024 else { throw APIError.invalidRequest("field \"password\" is longer than 1024 bytes") }
        let now = services.clock()
        let nameBucket = Data(SHA256.hash(data: Data(input.username.utf8))).base64EncodedString()
        // The name's bucket is charged only once the address's admits the attempt: a throttled
        // address cannot go on draining other people's names. Throttled rows name the address only.
        if let wait = services.signInByClient.take(ClientAddress.bucket(context.client), now: now) ?? services.signInByName.take(nameBucket, now: now) {
            services.reject(.init(at: now, event: "login.throttled", code: ReasonCode.rateLimited.rawValue), context)
            throw AuthMiddleware.tooMany("too many sign-in attempts", wait)
        }
        // A name no user can have (NUL, which PostgreSQL cannot even compare) is simply no user.
        let user = input.username.contains("\u{0}") ? nil : try await services.repository.user(named: input.username)
        let hash = user?.passwordHash
        let verify = services.verifyPassword
        guard services.passwordChecks.enter() else {
            services.reject(.init(at: now, event: "login.throttled", code: ReasonCode.rateLimited.rawValue), context)
            throw AuthMiddleware.tooMany("the server is busy checking other sign-ins", 1)
        }
        defer { services.passwordChecks.leave() }
        // bcrypt is slow on purpose; off the event loop.
        let valid = try await NIOThreadPool.singleton.runIfActive {
            let matches = verify(input.password, hash ?? Self.dummyHash)
            return matches && hash != nil
        }
        guard let user, valid else {
            services.reject(.init(at: now, event: "login.failed", actor: input.username, code: ReasonCode.invalidCredentials.rawValue), context)
            throw APIError(.invalidCredentials, "wrong username or password")
        }
        if user.disabledAt != nil {
            services.reject(.init(at: now, event: "login.failed", actor: user.name, code: ReasonCode.keyDisabled.rawValue), context)
            throw APIError(.keyDisabled, "\(user.name) is switched off; an admin can enable the account again")
        }
        await services.audit(.init(at: now, event: "login", actor: user.name, credential: credential), context)
        return user
    }

    struct WhoamiView: Encodable, Sendable {
        var user: String
        var kind: String
        var keyID: String?
        var scopes: [String]
        var team: String?
        var teams: [String]
        var admin: Bool
        var expiresAt: Date?
        enum CodingKeys: String, CodingKey {
            case user, kind, scopes, team, teams, admin
            case keyID = "key_id", expiresAt = "expires_at"
        }
    }

    /// The most frequent authenticated call (scripts and gateways ask it on every run), so its
    /// body is written by `WhoamiView.json`, not `JSONEncoder` (a tenth of the request's CPU time).
    func whoami(_ request: Request, context: ServerContext) async throws -> Response {
        let p = try context.requirePrincipal()
        let view = WhoamiView(user: p.user.name, kind: p.kind.rawValue, keyID: p.keyID, scopes: p.scopes.sorted().map(\.rawValue),
                              team: p.team, teams: p.user.teams, admin: p.isAdmin, expiresAt: p.expiresAt)
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: view.json)))
    }
}

/// `/v1/audit` for admins, and the small protected resource `/v1/teams/{team}/projects`.
struct AuditAndProjectsController {
    let services: Services

    /// The audit spans every team, so a key bound to one team cannot read it. Rejections counted
    /// in memory are written first, so the answer includes them.
    func audit(_ request: Request, context: ServerContext) async throws -> Response {
        let p = try context.requirePrincipal()
        guard p.isAdmin else { throw APIError(.adminRequired, "the audit log is for admin credentials", scope: "admin") }
        guard p.scopes.contains(.auditRead) else { throw APIError(.insufficientScope, "this needs the audit:read scope", scope: "audit:read") }
        if let team = p.team { throw APIError(.teamMismatch, "this key belongs to team \(team); the audit spans every team") }
        let q = request.uri.queryParameters
        let limit = try Services.pageLimit(q["limit"].map(String.init), default: 100)
        var cursor: Int64?
        if let text = q["cursor"] {
            guard let value = Int64(String(text)), value >= 0 else { throw APIError.invalidRequest("cursor must be a next_cursor value") }
            cursor = value
        }
        try await services.rejections.flush(to: services.repository)
        try await services.checks.flush(to: services.repository)
        let items = try await services.repository.audit(keyID: q["key_id"].map(String.init), actor: q["actor"].map(String.init),
                                                        credential: q["credential"].map(String.init),
                                                        event: q["event"].map(String.init), after: cursor, limit: limit)
        return try .json(AuditPage(items: items, nextCursor: items.count == limit ? items.last?.id.map(String.init) : nil))
    }

    func listProjects(_ request: Request, context: ServerContext) async throws -> Response {
        let team = try await authorize(.projectsRead, context)
        return try .json(try await services.repository.projects(team: team))
    }

    struct ProjectBody: Decodable { var name: String }

    func createProject(_ request: Request, context: ServerContext) async throws -> Response {
        let team = try await authorize(.projectsWrite, context)
        let input = try await services.decode(ProjectBody.self, from: request, allowed: ["name"])
        let name = try Limits.name(input.name, field: "name")
        let principal = try context.requirePrincipal()
        let project = try await services.repository.createProject(team: team, name: name, by: principal.user.name, at: services.clock())
        await services.audit(.init(at: services.clock(), event: "project.created", actor: principal.user.name, credential: principal.credential,
                                   target: project.name, team: team), context)
        return try .json(project, status: .created)
    }

    /// Scope first, then team: a key bound to a team acts only for it; a user only for their teams.
    /// Membership is checked before existence, so a non-member cannot probe which teams exist.
    private func authorize(_ scope: Scope, _ context: ServerContext) async throws -> String {
        let p = try context.requirePrincipal()
        let team = context.parameters.get("team") ?? ""
        let shown = Limits.clip(team) ?? ""
        guard p.scopes.contains(scope) else { throw APIError(.insufficientScope, "this needs the \(scope.rawValue) scope", scope: scope.rawValue) }
        if let keyTeam = p.team, keyTeam != team { throw APIError(.teamMismatch, "this key belongs to team \(keyTeam), not \(shown)") }
        guard p.isAdmin || p.user.teams.contains(team) else { throw APIError(.teamMismatch, "\(p.user.name) is not a member of team \(shown)") }
        guard try await services.repository.teamExists(team) else { throw APIError.notFound("no team \(shown)") }
        try await services.teamSwitches.check(team, now: services.clock())
        return team
    }
}
