import DevInfraCore
import Foundation

/// Who may do what with keys: the one place these rules live, for every route that needs them.
///
/// - A credential never grants a scope it lacks, nor a team its owner is not in.
/// - A team-bound key acts within its team only: it sees, lists, rotates and revokes keys of
///   that team (its owner's, or any for an admin), never team-less keys or another team's, and it
///   can only create keys for its team. A team-less credential is bound by its owner's rights.
/// - A key that will stop working (an expiry, or the end of its rotation grace) cannot mint a key
///   that outlives it.
enum KeyRules {
    static func require(_ scope: Scope, _ principal: Principal) throws {
        guard principal.scopes.contains(scope) else {
            throw APIError(.insufficientScope, "this needs the \(scope.rawValue) scope", scope: scope.rawValue)
        }
    }

    /// Whether `principal` may see and act on `record`: its own keys; as a team admin, every key
    /// bound to the team (integrations' keys are); as an admin, any.
    static func canSee(_ record: KeyRecord, _ principal: Principal) -> Bool {
        let manages = record.team.map { principal.user.administers($0) } ?? false
        guard record.ownerID == principal.user.id || principal.isAdmin || manages else { return false }
        if let bound = principal.team { return record.team == bound }
        return true
    }

    /// Whether `principal` manages `team`: its integrations, its keys, its kill switch. An admin
    /// credential, or a team admin's (a team-bound key only for its own team).
    static func canManage(_ team: String, _ principal: Principal) -> Bool {
        if let bound = principal.team, bound != team { return false }
        return principal.isAdmin || principal.user.administers(team)
    }

    static func requireManage(_ team: String, _ principal: Principal) throws {
        guard canManage(team, principal) else {
            if let bound = principal.team, bound != team {
                throw APIError(.teamMismatch, "this key belongs to team \(bound) and cannot manage team \(Limits.clip(team) ?? "")")
            }
            throw APIError(.adminRequired, "managing team \(Limits.clip(team) ?? "")'s integrations and keys needs a team admin of it or an admin",
                           scope: "admin")
        }
    }

    /// Whether `principal` may act for `team`: a team-bound key for its own team only, and any
    /// credential only while its owner is a member (or it is an admin credential). What `/v1/check`
    /// and `/v1/introspect` answer for a required team, as the projects resource enforces it.
    static func canActFor(_ team: String, _ principal: Principal) -> Bool {
        if let bound = principal.team, bound != team { return false }
        return principal.isAdmin || principal.user.teams.contains(team)
    }

    /// The team a listing is confined to: a team-bound key lists its team only, and asking for
    /// another is a 403 rather than a silently different answer.
    static func listingTeam(asked: String?, _ principal: Principal) throws -> String? {
        guard let bound = principal.team else { return asked }
        if let asked, asked != bound {
            throw APIError(.teamMismatch, "this key belongs to team \(bound) and cannot list keys of team \(asked)")
        }
        return bound
    }

    static func parseScopes(_ names: [String]) throws -> Set<Scope> {
        guard !names.isEmpty else { throw APIError.invalidRequest("field \"scopes\" must name at least one scope") }
        return try Set(names.map { name in
            guard let scope = Scope(rawValue: name) else {
                throw APIError.invalidRequest("unknown scope \"\(Limits.clip(name) ?? "")\"; known: \(Scope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return scope
        })
    }

    static func checkGrant(scopes: Set<Scope>, team: String?, _ principal: Principal) throws {
        if let missing = scopes.subtracting(principal.scopes).sorted().first {
            throw APIError(.insufficientScope, "a credential cannot grant the \(missing.rawValue) scope, which it does not hold", scope: missing.rawValue)
        }
        if let team {
            if let keyTeam = principal.team, keyTeam != team {
                throw APIError(.teamMismatch, "this key belongs to team \(keyTeam) and cannot act for team \(Limits.clip(team) ?? "")")
            }
            guard principal.user.teams.contains(team) || principal.isAdmin else {
                throw APIError(.teamMismatch, "\(principal.user.name) is not a member of team \(Limits.clip(team) ?? "")")
            }
        } else if let keyTeam = principal.team {
            throw APIError(.teamMismatch, "this key belongs to team \(keyTeam); keys it creates must name that team")
        }
    }

    /// A key stopping at `limit` (expiry or grace end) may only mint keys that stop no later.
    static func checkLifetime(_ expiresAt: Date?, _ principal: Principal) throws {
        guard principal.kind == .key, let limit = principal.expiresAt else { return }
        guard let expiresAt, expiresAt <= limit else {
            throw APIError(.expiryExceedsCredential,
                           "the credential stops working at \(ISO8601DateFormatter().string(from: limit)); a key it creates must expire no later")
        }
    }
}
