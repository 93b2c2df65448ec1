import DevInfraCore
import Foundation

/// What a verifying service requires of a credential: every scope, and to act for every team.
/// Requirements only add up (a client that adds one to a gateway's request only makes its own
/// check stricter), so where they come from (query, header, form) never loosens a check.
struct Requirements: Sendable, Equatable {
    var scopes: Set<Scope> = []
    var teams: Set<String> = []

    /// Scope names separated by spaces (RFC 7662's `scope`), or by commas too (`/v1/check`'s query
    /// and headers); an unknown name is the verifying service's mistake, so a 400.
    mutating func addScopes(_ text: some StringProtocol, commas: Bool = false) throws {
        for name in text.split(whereSeparator: { $0 == " " || (commas && $0 == ",") }) {
            guard let scope = Scope(rawValue: String(name)) else {
                throw APIError.invalidRequest("unknown scope \"\(Limits.clip(String(name)) ?? "")\" required; known: "
                    + Scope.allCases.map(\.rawValue).joined(separator: ", "))
            }
            scopes.insert(scope)
        }
    }

    mutating func addTeam(_ text: some StringProtocol) throws {
        let team = Authenticator.trimmed(Substring(text))
        // Counted in Unicode scalars, as the document's maxLength counts.
        guard !team.isEmpty, team.unicodeScalars.count <= Limits.maxNameLength else {
            throw APIError.invalidRequest("a required team must be 1 to \(Limits.maxNameLength) characters")
        }
        teams.insert(team)
    }
}

/// Whether a credential is good for what another service requires: the one set of rules that
/// `/v1/introspect`, `/v1/check` and `dev-infra verify` share (authenticate, team, the key's rate
/// limit and use, then scope), with the API's own reason codes.
struct Verifier: Sendable {
    let services: Services

    /// The principal, or the `APIError` that says why not. Passing the team check and the rate
    /// limit counts as the key's use (`last_used`), as any request with it does. `budget` names
    /// whose reads of unknown key ids this charges (`Authenticator.LookupBudget`).
    func verify(_ credential: String, _ requirements: Requirements, budget: String) async throws -> Principal {
        let lookups = Authenticator.LookupBudget(limiter: services.unknownKeys, bucket: { budget }, now: services.clock())
        return try await admit(try await services.authenticator.principal(credential: credential, budget: lookups), requirements)
    }

    /// The same, for a principal already authenticated from a request's headers. Teams come
    /// before the rate limit: a verifier bound to one team neither drains nor learns the budget of
    /// another team's key.
    func admit(_ principal: Principal, _ requirements: Requirements) async throws -> Principal {
        for team in requirements.teams.sorted() where !KeyRules.canActFor(team, principal) {
            throw APIError(.teamMismatch, principal.team.map { "this key belongs to team \($0), not \(Limits.clip(team) ?? "")" }
                ?? "\(principal.user.name) is not a member of team \(Limits.clip(team) ?? "")")
        }
        let now = services.clock()
        for team in requirements.teams.sorted() { try await services.teamSwitches.check(team, now: now) }
        _ = try await services.guardrails.admit(principal, now: now)
        if let keyID = principal.keyID { services.usage.record(keyID, at: now) }
        if let missing = requirements.scopes.subtracting(principal.scopes).sorted().first {
            throw APIError(.insufficientScope, "this needs the \(missing.rawValue) scope", scope: missing.rawValue)
        }
        return principal
    }

    /// Counts one verification for the audit: written as a few rows with counts once a minute,
    /// never a row per request (a gateway asks on every request it serves). A key id is kept only
    /// for keys that exist: made-up ones would each make a row of their own and crowd out the rest.
    func count(_ event: String, by verifier: Principal?, keyID: String?, principal: Principal?, code: String?,
               context: ServerContext) {
        let madeUp = code == ReasonCode.malformedKey.rawValue || code == ReasonCode.unknownKey.rawValue
        let row = AuditEvent(at: services.clock(), event: event, actor: verifier?.user.name, credential: verifier?.credential,
                             keyID: madeUp ? nil : keyID, target: principal?.user.name, team: principal?.team, code: code, client: context.client)
        services.checks.record(row, requestID: { context.requestID })
    }
}

extension Principal {
    /// `active`, or `rotating` while a rotated key's grace runs.
    var state: String { rotating ? "rotating" : "active" }
}
