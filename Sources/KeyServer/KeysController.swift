@preconcurrency import Crypto
import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// `/v1/keys`: create, list, show, revoke, rotate. Who may do what is `KeyRules`; this type reads
/// requests, calls the rules and the repository, audits, and answers.
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
        try KeyRules.require(.keysWrite, principal)
        let idempotencyKey = try Self.idempotencyKey(request)
        let bodyData = try await services.body(of: request)
        let input = try services.decode(CreateBody.self, from: bodyData, allowed: ["name", "scopes", "team", "expires_in"])
        let name = try Limits.name(input.name, field: "name")
        let scopes = try KeyRules.parseScopes(input.scopes)
        try KeyRules.checkGrant(scopes: scopes, team: input.team, principal)
        if let team = input.team, try await !services.repository.teamExists(team) {
            throw APIError.notFound("no team \(Limits.clip(team) ?? "")")
        }
        let now = services.clock()
        let expiresAt = try input.expiresIn.map { now.addingTimeInterval(try Limits.seconds($0, field: "expires_in")) }
        try KeyRules.checkLifetime(expiresAt, principal)
        let requestHash = Self.hash("POST /v1/keys", bodyData)
        if let idempotencyKey, let previous = try await services.repository.idempotency(credential: principal.idempotencyScope, key: idempotencyKey) {
            return try await replay(previous, requestHash, principal, context)
        }
        let key = APIKey.generate()
        let record = KeyRecord(keyID: key.keyID, secretHash: ServerSecrets.hash(secret: key.secret), name: name,
                               ownerID: principal.user.id, ownerName: principal.user.name, team: input.team, scopes: scopes,
                               createdAt: now.wholeSeconds, expiresAt: expiresAt?.wholeSeconds)
        let audit = services.stamped(.init(at: now, event: "key.created", actor: principal.user.name, credential: principal.credential,
                                           keyID: key.keyID, team: input.team), context)
        if let seal = try sealed(key, idempotencyKey, requestHash, principal, now) {
            // A parallel request with the same header won: answer with its key; ours was never stored.
            if let winner = try await services.repository.insert(record, idempotency: seal, audit: audit) {
                return try await replay(winner, requestHash, principal, context)
            }
        } else {
            try await services.repository.insert(record, audit: audit)
        }
        return try .json(CreatedKeyView(key: KeyView(record, now: now), apiKey: key.rawValue), status: .created)
    }

    func list(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try KeyRules.require(.keysRead, principal)
        let query = request.uri.queryParameters
        let limit = try Services.pageLimit(query["limit"].map(String.init), default: 50)
        let all = try Services.flag(query["all"].map(String.init), "all")
        let cursor = query["cursor"].map(String.init)
        if let cursor, !APIKey.isKeyID(cursor) { throw APIError.invalidRequest("cursor must be a key id from next_cursor") }
        let askedTeam = query["team"].map(String.init)
        let ownerName = query["owner"].map(String.init)
        var ownerID: Int64? = principal.user.id
        if all || askedTeam != nil || ownerName != nil {
            guard principal.isAdmin else {
                throw APIError(.adminRequired, "listing keys of others (all, team, owner) needs an admin credential", scope: "admin")
            }
            ownerID = nil
            if let ownerName {
                guard let owner = try await services.repository.user(named: ownerName) else { throw APIError.notFound("no user \(Limits.clip(ownerName) ?? "")") }
                ownerID = owner.id
            }
        }
        let team = try KeyRules.listingTeam(asked: askedTeam, principal)
        let records = try await services.repository.keys(ownerID: ownerID, team: team, after: cursor, limit: limit)
        let now = services.clock()
        return try .json(KeyPage(items: records.map { view($0, now) }, nextCursor: records.count == limit ? records.last?.keyID : nil))
    }

    func show(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try KeyRules.require(.keysRead, principal)
        return try .json(view(try await visibleKey(context, principal), services.clock()))
    }

    struct RevokeBody: Decodable { var reason: String? }

    func revoke(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try KeyRules.require(.keysWrite, principal)
        let record = try await visibleKey(context, principal)
        let input = try await services.decode(RevokeBody.self, from: request, allowed: ["reason"], allowEmpty: true)
        let queried = try Limits.text(request.uri.queryParameters["reason"].map(String.init), field: "reason", max: Limits.maxReasonLength)
        let reason = try Limits.text(input.reason, field: "reason", max: Limits.maxReasonLength) ?? queried
        let now = services.clock()
        let audit = services.stamped(.init(at: now, event: "key.revoked", actor: principal.user.name, credential: principal.credential,
                                           keyID: record.keyID, team: record.team), context)
        guard let revoked = try await services.repository.revoke(id: record.keyID, at: now, by: principal.user.name, reason: reason,
                                                                 audit: audit) else {
            throw APIError.notFound("no key \(record.keyID)")
        }
        return try .json(KeyView(revoked, now: now))
    }

    struct RotateBody: Decodable {
        var graceSeconds: Int?
        enum CodingKeys: String, CodingKey { case graceSeconds = "grace_seconds" }
    }

    func rotate(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try KeyRules.require(.keysWrite, principal)
        let old = try await visibleKey(context, principal)
        let idempotencyKey = try Self.idempotencyKey(request)
        let bodyData = try await services.body(of: request)
        let input = try services.decode(RotateBody.self, from: bodyData, allowed: ["grace_seconds"], allowEmpty: true)
        let grace = try Limits.seconds(input.graceSeconds ?? 7 * 24 * 3600, field: "grace_seconds", allowZero: true)
        try KeyRules.checkGrant(scopes: old.scopes, team: old.team, principal)
        let requestHash = Self.hash("POST /v1/keys/\(old.keyID)/rotate", bodyData)
        if let idempotencyKey, let previous = try await services.repository.idempotency(credential: principal.idempotencyScope, key: idempotencyKey) {
            return try await replay(previous, requestHash, principal, context)
        }
        let now = services.clock()
        guard old.state(at: now) == .active else { throw Self.notActive(old, now) }
        let expiresAt = old.expiresAt.map { now.addingTimeInterval($0.timeIntervalSince(old.createdAt)).wholeSeconds }
        // A key rotating itself is renewed for the lifetime it had (`dev-infra rotate` of a CI key
        // with an expiry); rotating another key may not outlive the caller.
        if principal.keyID != old.keyID { try KeyRules.checkLifetime(expiresAt, principal) }
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
        let audit = services.stamped(.init(at: now, event: "key.rotated", actor: principal.user.name, credential: principal.credential,
                                           keyID: old.keyID, target: key.keyID, team: old.team), context)
        let outcome = try await services.repository.rotate(oldID: old.keyID, to: record, graceEndsAt: now.addingTimeInterval(grace), now: now,
                                                           idempotency: try sealed(key, idempotencyKey, requestHash, principal, now),
                                                           audit: audit)
        switch outcome {
        case .rotated: break
        case .notActive:
            let current = try await services.repository.key(id: old.keyID) ?? old
            throw Self.notActive(current, now)
        case .replay(let winner):
            return try await replay(winner, requestHash, principal, context)
        }
        return try .json(CreatedKeyView(key: KeyView(record, now: now), apiKey: key.rawValue), status: .created)
    }

    // MARK: Idempotency

    /// The `Idempotency-Key` header, checked: 1 to 200 characters.
    static func idempotencyKey(_ request: Request) throws -> String? {
        guard let key = request.headers[.idempotencyKey] else { return nil }
        guard !key.isEmpty, key.unicodeScalars.count <= Limits.maxIdempotencyKeyLength else {
            throw APIError.invalidRequest("Idempotency-Key must be 1 to \(Limits.maxIdempotencyKeyLength) characters")
        }
        return key
    }

    static func hash(_ line: String, _ body: Data) -> Data { Data(SHA256.hash(data: Data((line + "\n").utf8) + body)) }

    private func sealed(_ key: APIKey, _ idempotencyKey: String?, _ requestHash: Data, _ principal: Principal, _ now: Date) throws -> IdempotencyRecord? {
        guard let idempotencyKey else { return nil }
        return IdempotencyRecord(credential: principal.idempotencyScope, idempotencyKey: idempotencyKey, requestHash: requestHash,
                                 keyID: key.keyID, sealedKey: try services.secrets.seal(key.rawValue), createdAt: now)
    }

    /// The answer to a retried create or rotate: the same key, and nothing minted. The caller is
    /// checked again first, as if it asked for that key now: rights shrink, keys enter their grace.
    private func replay(_ previous: IdempotencyRecord, _ requestHash: Data, _ principal: Principal, _ context: ServerContext) async throws -> Response {
        guard previous.requestHash == requestHash else {
            throw APIError(.idempotencyConflict, "this Idempotency-Key was used with a different request")
        }
        guard let record = try await services.repository.key(id: previous.keyID), KeyRules.canSee(record, principal) else {
            throw APIError.notFound("the key this Idempotency-Key minted is not visible to this credential")
        }
        try KeyRules.checkGrant(scopes: record.scopes, team: record.team, principal)
        // The successor of the caller's own rotation is the caller renewed, whatever its grace.
        if record.rotatedFrom == nil || record.rotatedFrom != principal.keyID { try KeyRules.checkLifetime(record.expiresAt, principal) }
        guard let raw = try? services.secrets.unseal(previous.sealedKey) else {
            throw APIError(.idempotencyConflict, "the earlier answer to this Idempotency-Key cannot be replayed; send a new one")
        }
        let now = services.clock()
        // Counted like rejections: a client retrying in a loop adds one row a flush, not one a retry.
        services.reject(.init(at: now, event: "key.replayed", actor: principal.user.name, credential: principal.credential,
                              keyID: record.keyID, team: record.team), context)
        var response = try Response.json(CreatedKeyView(key: KeyView(record, now: now), apiKey: raw), status: .created)
        response.headers[.idempotentReplay] = "true"
        return response
    }

    // MARK: Checks

    /// The key named in the path, if the caller may see it (`KeyRules.canSee`). Others get 404,
    /// so key ids of other people and other teams cannot be probed.
    private func visibleKey(_ context: ServerContext, _ principal: Principal) async throws -> KeyRecord {
        let id = context.parameters.get("id") ?? ""
        guard APIKey.isKeyID(id) else { throw APIError.invalidRequest("\"\(Limits.clip(id) ?? "")\" is not a key id (12 letters and digits)") }
        guard let record = try await services.repository.key(id: id), KeyRules.canSee(record, principal) else {
            throw APIError.notFound("no key \(id)")
        }
        return record
    }

    private func view(_ record: KeyRecord, _ now: Date) -> KeyView {
        var view = KeyView(record, now: now)
        if let used = services.usage.pendingUse(of: record.keyID) { view.lastUsedAt = used }
        return view
    }

    static func notActive(_ record: KeyRecord, _ now: Date) -> APIError {
        APIError(.keyNotActive, "key \(record.keyID) is \(record.state(at: now).rawValue); only an active key can be rotated")
    }
}
