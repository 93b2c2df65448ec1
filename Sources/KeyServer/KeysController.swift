@preconcurrency import Crypto
import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// `/v1/keys`: create, list, show, revoke, rotate. Escalation is refused here: a credential can
/// never mint a scope it lacks, a team its owner is not in, or a key that outlives it.
struct KeysController {
    let services: Services

    func register(_ group: RouterGroup<ServerContext>) {
        group.post("keys", use: create)
        group.get("keys", use: list)
        group.get("keys/{id}", use: show)
        group.delete("keys/{id}", use: revoke)
        group.post("keys/{id}/rotate", use: rotate)
    }

    struct CreateBody: Decodable {
        var name: String
        var scopes: [String]
        var team: String?
        var expiresIn: Int?
        enum CodingKeys: String, CodingKey { case name, scopes, team, expiresIn = "expires_in" }
    }

    func create(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try require(.keysWrite, principal)
        let idempotencyKey = request.headers[.idempotencyKey]
        let bodyData = try await services.body(of: request)
        let input = try services.decode(CreateBody.self, from: bodyData, allowed: ["name", "scopes", "team", "expires_in"])
        let requestHash = Data(SHA256.hash(data: Data("POST /v1/keys\n".utf8) + bodyData))
        if let previous = try await previousAnswer(idempotencyKey, requestHash, principal) { return try await replay(previous) }
        let name = input.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw APIError.invalidRequest("field \"name\" must be 1 to 100 characters") }
        let scopes = try parseScopes(input.scopes)
        try checkGrant(scopes: scopes, team: input.team, principal: principal)
        let now = services.clock()
        var expiresAt: Date?
        if let seconds = input.expiresIn {
            guard seconds > 0 else { throw APIError.invalidRequest("field \"expires_in\" must be a positive number of seconds, or null") }
            expiresAt = now.addingTimeInterval(TimeInterval(seconds))
        }
        try checkLifetime(expiresAt, principal: principal)
        let key = APIKey.generate()
        let record = KeyRecord(keyID: key.keyID, secretHash: ServerSecrets.hash(secret: key.secret), name: name,
                               ownerID: principal.user.id, ownerName: principal.user.name, team: input.team, scopes: scopes,
                               createdAt: now.wholeSeconds, expiresAt: expiresAt)
        if let seal = try sealed(key, idempotencyKey, requestHash, principal, now) {
            try await services.repository.insert(record, idempotency: seal)
        } else {
            try await services.repository.insert(record)
        }
        await services.audit(event: "key.created", actor: principal.user.name, keyID: key.keyID, team: input.team, code: nil, context: context)
        return try .json(CreatedKeyView(key: KeyView(record, now: now), apiKey: key.rawValue), status: .created)
    }

    /// The stored answer when `key` was seen before with this body; 422 when with another body.
    private func previousAnswer(_ key: String?, _ requestHash: Data, _ principal: Principal) async throws -> IdempotencyRecord? {
        guard let key else { return nil }
        guard !key.isEmpty, key.count <= 200 else { throw APIError.invalidRequest("Idempotency-Key must be 1 to 200 characters") }
        guard let previous = try await services.repository.idempotency(ownerID: principal.user.id, key: key) else { return nil }
        guard previous.requestHash == requestHash else {
            throw APIError(.unprocessableContent, "idempotency_conflict", "this Idempotency-Key was used with a different request")
        }
        return previous
    }

    private func sealed(_ key: APIKey, _ idempotencyKey: String?, _ requestHash: Data, _ principal: Principal, _ now: Date) throws -> IdempotencyRecord? {
        guard let idempotencyKey else { return nil }
        return IdempotencyRecord(ownerID: principal.user.id, idempotencyKey: idempotencyKey, requestHash: requestHash,
                                 keyID: key.keyID, sealedKey: try services.secrets.seal(key.rawValue), createdAt: now)
    }

    /// The answer to a retried create or rotate: the same key, unsealed, and nothing minted.
    private func replay(_ previous: IdempotencyRecord) async throws -> Response {
        guard let record = try await services.repository.key(id: previous.keyID) else { throw APIError.notFound("the key was deleted") }
        let raw = try services.secrets.unseal(previous.sealedKey)
        var response = try Response.json(CreatedKeyView(key: KeyView(record, now: services.clock()), apiKey: raw), status: .created)
        response.headers[.idempotentReplay] = "true"
        return response
    }

    func list(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try require(.keysRead, principal)
        let query = request.uri.queryParameters
        let limit = min(Int(query["limit"].map(String.init) ?? "") ?? 50, Services.maxPageSize)
        guard limit > 0 else { throw APIError.invalidRequest("limit must be between 1 and \(Services.maxPageSize)") }
        let all = query["all"].map { $0 == "true" } ?? false
        let team = query["team"].map(String.init)
        let ownerName = query["owner"].map(String.init)
        var ownerID: Int64? = principal.user.id
        if all || team != nil || ownerName != nil {
            guard principal.isAdmin else { throw APIError(.adminRequired, "listing keys of others (all, team, owner) needs an admin credential", scope: "admin") }
            ownerID = nil
            if let ownerName {
                guard let owner = try await services.repository.user(named: ownerName) else { throw APIError.notFound("no user \(ownerName)") }
                ownerID = owner.id
            }
        }
        let records = try await services.repository.keys(ownerID: ownerID, team: team, after: query["cursor"].map(String.init), limit: limit)
        let now = services.clock()
        let items = records.map { record in
            var view = KeyView(record, now: now)
            if let used = services.usage.pendingUse(of: record.keyID) { view.lastUsedAt = used }
            return view
        }
        return try .json(KeyPage(items: items, nextCursor: records.count == limit ? records.last?.keyID : nil))
    }

    func show(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try require(.keysRead, principal)
        let record = try await visibleKey(context, principal)
        var view = KeyView(record, now: services.clock())
        if let used = services.usage.pendingUse(of: record.keyID) { view.lastUsedAt = used }
        return try .json(view)
    }

    struct RevokeBody: Decodable { var reason: String? }

    func revoke(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try require(.keysWrite, principal)
        let record = try await visibleKey(context, principal)
        let input = try await services.decode(RevokeBody.self, from: request, allowed: ["reason"], allowEmpty: true)
        guard let revoked = try await services.repository.revoke(id: record.keyID, at: services.clock(), by: principal.user.name,
                                                                 reason: input.reason ?? request.uri.queryParameters["reason"].map(String.init)) else {
            throw APIError.notFound("no key \(record.keyID)")
        }
        await services.audit(event: "key.revoked", actor: principal.user.name, keyID: record.keyID, team: record.team, code: nil, context: context)
        return try .json(KeyView(revoked, now: services.clock()))
    }

    struct RotateBody: Decodable {
        var graceSeconds: Int?
        enum CodingKeys: String, CodingKey { case graceSeconds = "grace_seconds" }
    }

    func rotate(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try require(.keysWrite, principal)
        let old = try await visibleKey(context, principal)
        let bodyData = try await services.body(of: request)
        let input = try services.decode(RotateBody.self, from: bodyData, allowed: ["grace_seconds"], allowEmpty: true)
        let idempotencyKey = request.headers[.idempotencyKey]
        let requestHash = Data(SHA256.hash(data: Data("POST /v1/keys/\(old.keyID)/rotate\n".utf8) + bodyData))
        if let previous = try await previousAnswer(idempotencyKey, requestHash, principal) { return try await replay(previous) }
        let grace = input.graceSeconds ?? 7 * 24 * 3600
        guard grace >= 0 else { throw APIError.invalidRequest("field \"grace_seconds\" must be 0 or more") }
        let now = services.clock()
        guard old.state(at: now) == .active else {
            throw APIError(.conflict, "key_not_active", "key \(old.keyID) is \(old.state(at: now).rawValue); only an active key can be rotated")
        }
        try checkGrant(scopes: old.scopes, team: old.team, principal: principal)
        let expiresAt = old.expiresAt.map { now.addingTimeInterval($0.timeIntervalSince(old.createdAt)) }
        try checkLifetime(expiresAt, principal: principal)
        let key = APIKey.generate()
        var record = old
        record.keyID = key.keyID
        record.secretHash = ServerSecrets.hash(secret: key.secret)
        record.createdAt = now.wholeSeconds
        record.expiresAt = expiresAt
        record.lastUsedAt = nil
        record.rotatedFrom = old.keyID
        record.rotatedTo = nil
        record.graceEndsAt = nil
        try await services.repository.rotate(oldID: old.keyID, to: record, graceEndsAt: now.addingTimeInterval(TimeInterval(grace)),
                                             idempotency: try sealed(key, idempotencyKey, requestHash, principal, now))
        await services.audit(event: "key.rotated", actor: principal.user.name, keyID: old.keyID, team: old.team, code: nil, context: context)
        return try .json(CreatedKeyView(key: KeyView(record, now: now), apiKey: key.rawValue), status: .created)
    }

    // MARK: Checks

    /// The key named in the path, if the caller may see it: its owner, or an admin. Others get
    /// 404, so key ids of other people cannot be probed.
    private func visibleKey(_ context: ServerContext, _ principal: Principal) async throws -> KeyRecord {
        let id = context.parameters.get("id") ?? ""
        guard APIKey.isKeyID(id) else { throw APIError.invalidRequest("\"\(id)\" is not a key id (12 letters and digits)") }
        guard let record = try await services.repository.key(id: id), record.ownerID == principal.user.id || principal.isAdmin else {
            throw APIError.notFound("no key \(id)")
        }
        return record
    }

    private func require(_ scope: Scope, _ principal: Principal) throws {
        guard principal.scopes.contains(scope) else {
            throw APIError(.insufficientScope, "this needs the \(scope.rawValue) scope", scope: scope.rawValue)
        }
    }

    private func parseScopes(_ names: [String]) throws -> Set<Scope> {
        guard !names.isEmpty else { throw APIError.invalidRequest("field \"scopes\" must name at least one scope") }
        return try Set(names.map { name in
            guard let scope = Scope(rawValue: name) else {
                throw APIError.invalidRequest("unknown scope \"\(name)\"; known: \(Scope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return scope
        })
    }

    private func checkGrant(scopes: Set<Scope>, team: String?, principal: Principal) throws {
        if let missing = scopes.subtracting(principal.scopes).sorted().first {
            throw APIError(.insufficientScope, "a credential cannot grant the \(missing.rawValue) scope, which it does not hold", scope: missing.rawValue)
        }
        if let team {
            if let keyTeam = principal.team, keyTeam != team {
                throw APIError(.teamMismatch, "this key belongs to team \(keyTeam) and cannot act for team \(team)")
            }
            guard principal.user.teams.contains(team) || principal.isAdmin else {
                throw APIError(.teamMismatch, "\(principal.user.name) is not a member of team \(team)")
            }
        } else if let keyTeam = principal.team {
            throw APIError(.teamMismatch, "this key belongs to team \(keyTeam); keys it creates must name that team")
        }
    }

    private func checkLifetime(_ expiresAt: Date?, principal: Principal) throws {
        guard principal.kind == .key, let limit = principal.expiresAt else { return }
        guard let expiresAt, expiresAt <= limit else {
            throw APIError(.forbidden, "expiry_exceeds_credential",
                           "the credential expires at \(ISO8601DateFormatter().string(from: limit)); a key it creates must expire no later")
        }
    }
}
