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

    /// Unauthenticated; a wrong user and a wrong password read the same, and both are audited.
    func token(_ request: Request, context: ServerContext) async throws -> Response {
        let input = try await services.decode(TokenBody.self, from: request, allowed: ["username", "password"])
        let user = try await services.repository.user(named: input.username)
        let hash = user?.passwordHash
        // bcrypt is slow on purpose; off the event loop.
        let valid = try await NIOThreadPool.singleton.runIfActive {
            hash.map { Bcrypt.verify(input.password, hash: $0) } ?? false
        }
        guard let user, valid else {
            await services.audit(event: "login.failed", actor: input.username, keyID: nil, team: nil, code: "invalid_credentials", context: context)
            throw APIError(.unauthorized, "invalid_credentials", "wrong username or password")
        }
        await services.audit(event: "login", actor: user.name, keyID: nil, team: nil, code: nil, context: context)
        return try .json(TokenView(accessToken: try JWTSigner(secrets: services.secrets).sign(user: user, now: services.clock())))
    }

    struct WhoamiView: Encodable {
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

    func whoami(_ request: Request, context: ServerContext) async throws -> Response {
        let p = try context.requirePrincipal()
        return try .json(WhoamiView(user: p.user.name, kind: p.kind.rawValue, keyID: p.keyID, scopes: p.scopes.sorted().map(\.rawValue),
                                    team: p.team, teams: p.user.teams, admin: p.isAdmin, expiresAt: p.expiresAt))
    }
}

/// `/v1/audit` for admins, and the small protected resource `/v1/teams/{team}/projects`.
struct AuditAndProjectsController {
    let services: Services

    func audit(_ request: Request, context: ServerContext) async throws -> Response {
        let p = try context.requirePrincipal()
        guard p.isAdmin else { throw APIError(.adminRequired, "the audit log is for admin credentials", scope: "admin") }
        guard p.scopes.contains(.auditRead) else { throw APIError(.insufficientScope, "this needs the audit:read scope", scope: "audit:read") }
        let q = request.uri.queryParameters
        let limit = min(Int(q["limit"].map(String.init) ?? "") ?? 100, Services.maxPageSize)
        guard limit > 0 else { throw APIError.invalidRequest("limit must be between 1 and \(Services.maxPageSize)") }
        let cursor = q["cursor"].flatMap { Int64(String($0)) }
        let items = try await services.repository.audit(keyID: q["key_id"].map(String.init), actor: q["actor"].map(String.init),
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
        guard !input.name.isEmpty, input.name.count <= 100 else { throw APIError.invalidRequest("field \"name\" must be 1 to 100 characters") }
        let project = try await services.repository.createProject(team: team, name: input.name, by: try context.requirePrincipal().user.name,
                                                                  at: services.clock())
        return try .json(project, status: .created)
    }

    /// Scope first, then team: a key bound to a team acts only for it; a user only for their teams.
    private func authorize(_ scope: Scope, _ context: ServerContext) async throws -> String {
        let p = try context.requirePrincipal()
        let team = context.parameters.get("team") ?? ""
        guard p.scopes.contains(scope) else { throw APIError(.insufficientScope, "this needs the \(scope.rawValue) scope", scope: scope.rawValue) }
        guard try await services.repository.teamExists(team) else { throw APIError.notFound("no team \(team)") }
        if let keyTeam = p.team, keyTeam != team { throw APIError(.teamMismatch, "this key belongs to team \(keyTeam), not \(team)") }
        guard p.isAdmin || p.user.teams.contains(team) else { throw APIError(.teamMismatch, "\(p.user.name) is not a member of team \(team)") }
        return team
    }
}
