import DevInfraCore
import Foundation

/// Integrations (service accounts) and kill switches: who may make, see, delete and switch off
/// what. The HTTP controllers only read requests and write answers.
struct IdentityService: Sendable {
    let repository: any KeyRepository
    let guardrails: Guardrails
    let clock: @Sendable () -> Date

    // MARK: Integrations

    func createIntegration(team: String, name: String, scopes names: [String], rateLimit: RateLimitPolicy?, by principal: Principal,
                           origin: AuditOrigin) async throws -> User {
        try KeyRules.require(.keysWrite, principal)
        try Self.checkName(name)
        guard team.unicodeScalars.count <= Limits.maxNameLength, try await repository.teamExists(team) else {
            throw APIError.notFound("no team \(Limits.clip(team) ?? "")")
        }
        try KeyRules.requireManage(team, principal)
        let scopes = try KeyRules.parseScopes(names)
        if scopes.contains(.admin) { throw APIError.invalidRequest("an integration cannot hold the admin scope") }
        // Nobody hands an integration more than they hold themselves.
        if let missing = scopes.subtracting(principal.scopes).sorted().first {
            throw APIError(.insufficientScope, "a credential cannot allow the \(missing.rawValue) scope, which it does not hold", scope: missing.rawValue)
        }
        try guardrails.check(rateLimit, field: "rate_limit")
        let now = clock()
        let audit = KeyService.stamp(.init(at: now, event: "integration.created", actor: principal.user.name, credential: principal.credential,
                                           target: "\(team)/\(name)", team: team), origin)
        return try await repository.createIntegration(team: team, name: name, scopes: scopes, rateLimit: rateLimit, by: principal.user.name,
                                                      at: now, audit: audit)
    }

    /// Integrations the caller may see: an admin's, any; others', those of their teams.
    func integrations(team: String?, by principal: Principal) async throws -> [User] {
        try KeyRules.require(.keysRead, principal)
        return try await repository.integrations(team: team).filter { canSee($0, principal) }
    }

    func integration(_ id: String, by principal: Principal) async throws -> User {
        try KeyRules.require(.keysRead, principal)
        guard id.unicodeScalars.count <= 2 * Limits.maxNameLength + 1, !id.contains("#"),
              let user = try await repository.user(named: id), user.kind == .integration, canSee(user, principal) else {
            throw APIError.notFound("no integration \(Limits.clip(id) ?? "")")
        }
        return user
    }

    func deleteIntegration(_ id: String, by principal: Principal, origin: AuditOrigin) async throws -> User {
        try KeyRules.require(.keysWrite, principal)
        let integration = try await integration(id, by: principal)
        try KeyRules.requireManage(integration.teams.first ?? "", principal)
        let now = clock()
        let audit = KeyService.stamp(.init(at: now, event: "integration.deleted", actor: principal.user.name, credential: principal.credential,
                                           target: integration.name, team: integration.teams.first), origin)
        try await repository.deleteIntegration(id: integration.id, at: now, by: principal.user.name, audit: audit)
        return integration
    }

    private func canSee(_ integration: User, _ principal: Principal) -> Bool {
        guard let team = integration.teams.first else { return false }
        if let bound = principal.team, bound != team { return false }
        return principal.isAdmin || principal.user.teams.contains(team)
    }

    /// `[a-z0-9][a-z0-9._-]{0,63}`: safe in a path segment, a log line and a shell.
    static func checkName(_ name: String) throws {
        let bytes = Array(name.utf8)
        let allowed = { (b: UInt8) in (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x5F || b == 0x2D }
        guard (1...64).contains(bytes.count), bytes.allSatisfy(allowed), let first = bytes.first, first != 0x2E, first != 0x5F, first != 0x2D else {
            throw APIError.invalidRequest("an integration's name is 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
        }
    }

    // MARK: Kill switches

    /// An admin's switch is an admin's to undo: a team admin (perhaps the one whose team was
    /// switched off over a compromise) cannot turn it back on.
    static func adminsSwitch(_ what: String) -> APIError {
        APIError(.adminRequired, "an admin switched \(what) off; only an admin can change that switch", scope: "admin")
    }

    enum Target: Sendable {
        case user(String), integration(String), team(String)
    }

    struct Switched: Sendable {
        var kind: String
        var name: String
        var disabledAt: Date?
    }

    /// Turns a kill switch on (`disabled`) or off, for every key of the target at once.
    func setSwitch(_ target: Target, disabled: Bool, reason: String?, by principal: Principal, origin: AuditOrigin) async throws -> Switched {
        let reason = try Limits.text(reason, field: "reason", max: Limits.maxReasonLength)
        let now = clock()
        let verb = disabled ? "disabled" : "enabled"
        let at: Date? = disabled ? now.wholeSeconds : nil
        func audit(_ kind: String, _ name: String, team: String?) -> AuditEvent {
            KeyService.stamp(.init(at: now, event: "\(kind).\(verb)", actor: principal.user.name, credential: principal.credential,
                                   target: name, team: team, reason: reason), origin)
        }
        switch target {
        case .user(let name):
            guard principal.isAdmin else {
                throw APIError(.adminRequired, "switching a user off or on needs an admin credential", scope: "admin")
            }
            if let bound = principal.team {
                throw APIError(.teamMismatch, "this key belongs to team \(bound); switching a user needs a team-less admin credential")
            }
            guard name.unicodeScalars.count <= 2 * Limits.maxNameLength + 1, let user = try await repository.user(named: name),
                  user.kind == .person else {
                throw APIError.notFound("no user \(Limits.clip(name) ?? "")")
            }
            if user.id == principal.user.id && disabled { throw APIError.invalidRequest("an admin cannot switch themselves off") }
            _ = try await repository.setDisabled(userID: user.id, at: at, byAdmin: true, audit: audit("user", user.name, team: nil))
            // Their browser sessions end too: switching them back on must not revive a stolen cookie.
            if disabled { try await repository.deleteSessions(userID: user.id) }
            return Switched(kind: "user", name: user.name, disabledAt: at)
        case .integration(let id):
            try KeyRules.require(.keysWrite, principal)
            let integration = try await integration(id, by: principal)
            let team = integration.teams.first ?? ""
            try KeyRules.requireManage(team, principal)
            if integration.disabledAt != nil && integration.disabledByAdmin && !principal.isAdmin {
                throw Self.adminsSwitch("integration \(integration.name)")
            }
            _ = try await repository.setDisabled(userID: integration.id, at: at, byAdmin: principal.isAdmin,
                                                 audit: audit("integration", integration.name, team: team))
            return Switched(kind: "integration", name: integration.name, disabledAt: at)
        case .team(let team):
            try KeyRules.require(.keysWrite, principal)
            guard team.unicodeScalars.count <= Limits.maxNameLength, try await repository.teamExists(team) else {
                throw APIError.notFound("no team \(Limits.clip(team) ?? "")")
            }
            try KeyRules.requireManage(team, principal)
            // A team-bound key switching its own team off would lock itself out with it: refused.
            if disabled && principal.team == team {
                throw APIError.invalidRequest("a key bound to team \(team) cannot switch its own team off; use a team-less credential")
            }
            if try await repository.disabledTeams()[team] == true && !principal.isAdmin { throw Self.adminsSwitch("team \(team)") }
            _ = try await repository.setTeamDisabled(team, at: at, byAdmin: principal.isAdmin, audit: audit("team", team, team: team))
            return Switched(kind: "team", name: team, disabledAt: at)
        }
    }
}
