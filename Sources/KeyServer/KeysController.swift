import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// `/v1/keys`: create, list, show, revoke, rotate. HTTP only: it reads requests, calls
/// `KeyService` (where the rules and the storage calls are) and writes answers.
struct KeysController {
    let services: Services
    var keys: KeyService { services.keys }

    func register(_ group: RouterGroup<ServerContext>) {
        group.post("keys", use: create)
        group.get("keys", use: list)
        group.get("keys/{id}", use: show)
        group.delete("keys/{id}", use: revoke)
        group.patch("keys/{id}", use: update)
        group.post("keys/{id}/rotate", use: rotate)
    }

    struct CreateBody: Decodable {
        var name: String
        var scopes: [String]
        var team: String?
        var expiresIn: Int?
        var integration: String?
        var rateLimit: RateLimitPolicy?
        var quota: KeyService.QuotaInput?
        enum CodingKeys: String, CodingKey {
            case name, scopes, team, integration, quota, expiresIn = "expires_in", rateLimit = "rate_limit"
        }
    }

    func create(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try KeyRules.require(.keysWrite, principal)
        let idempotencyKey = try Self.idempotencyKey(request)
        let bodyData = try await services.body(of: request)
        let input = try services.decode(CreateBody.self, from: bodyData,
                                        allowed: ["name", "scopes", "team", "expires_in", "integration", "rate_limit", "quota"])
        let minted = try await keys.create(.init(name: input.name, scopes: input.scopes, team: input.team, expiresIn: input.expiresIn,
                                                 idempotencyKey: idempotencyKey, requestHash: KeyService.hash("POST /v1/keys", bodyData),
                                                 integration: input.integration, rateLimit: input.rateLimit, quota: input.quota),
                                           by: principal, origin: context.origin)
        return try answer(minted)
    }

    func list(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = request.uri.queryParameters
        let input = KeyService.ListRequest(all: try Services.flag(query["all"].map(String.init), "all"), team: query["team"].map(String.init),
                                           owner: query["owner"].map(String.init), cursor: query["cursor"].map(String.init),
                                           limit: try Services.pageLimit(query["limit"].map(String.init), default: 50))
        let records = try await keys.list(input, by: principal)
        let now = services.clock()
        return try .json(KeyPage(items: records.map { KeyView($0, now: now) },
                                 nextCursor: records.count == input.limit ? records.last?.keyID : nil))
    }

    func show(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        return try .json(KeyView(try await keys.show(context.parameters.get("id") ?? "", by: principal), now: services.clock()))
    }

    struct UpdateBody: Decodable {
        var name: String?
        var scopes: [String]?
        var expiresIn: Int?
        var rateLimit: RateLimitPolicy?
        var quota: KeyService.QuotaInput?
        var resetQuota: Bool?
        enum CodingKeys: String, CodingKey {
            case name, scopes, quota, expiresIn = "expires_in", rateLimit = "rate_limit", resetQuota = "reset_quota"
        }
    }

    func update(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try KeyRules.require(.keysWrite, principal)
        let id = context.parameters.get("id") ?? ""
        _ = try await keys.visibleKey(id, principal)  // 404 before the body is read
        let body = try await services.body(of: request)
        // null is not "unchanged" (leave the field out for that), nor "remove": a PATCH only narrows.
        if let fields = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
           let null = fields.keys.sorted().first(where: { fields[$0] is NSNull }) {
            throw APIError.invalidRequest("field \"\(Limits.clip(null, 64) ?? "")\" cannot be null; leave it out to keep it as it is")
        }
        let input = try services.decode(UpdateBody.self, from: body,
                                        allowed: ["name", "scopes", "expires_in", "rate_limit", "quota", "reset_quota"])
        let updated = try await keys.update(id, .init(name: input.name, scopes: input.scopes, expiresIn: input.expiresIn,
                                                      rateLimit: input.rateLimit, quota: input.quota, resetQuota: input.resetQuota ?? false,
                                                      namesAField: input.resetQuota != nil),
                                            by: principal, origin: context.origin)
        return try .json(KeyView(updated, now: services.clock()))
    }

    struct RevokeBody: Decodable { var reason: String? }

    func revoke(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try KeyRules.require(.keysWrite, principal)
        let record = try await keys.visibleKey(context.parameters.get("id") ?? "", principal)  // 404 before the body is read
        let input = try await services.decode(RevokeBody.self, from: request, allowed: ["reason"], allowEmpty: true)
        let queried = try Limits.text(request.uri.queryParameters["reason"].map(String.init), field: "reason", max: Limits.maxReasonLength)
        let revoked = try await keys.revoke(record, reason: input.reason ?? queried, by: principal, origin: context.origin)
        return try .json(KeyView(revoked, now: services.clock()))
    }

    struct RotateBody: Decodable {
        var graceSeconds: Int?
        enum CodingKeys: String, CodingKey { case graceSeconds = "grace_seconds" }
    }

    func rotate(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try KeyRules.require(.keysWrite, principal)
        let old = try await keys.visibleKey(context.parameters.get("id") ?? "", principal)
        let idempotencyKey = try Self.idempotencyKey(request)
        let bodyData = try await services.body(of: request)
        let input = try services.decode(RotateBody.self, from: bodyData, allowed: ["grace_seconds"], allowEmpty: true)
        let minted = try await keys.rotate(old, .init(graceSeconds: input.graceSeconds, idempotencyKey: idempotencyKey,
                                                     requestHash: KeyService.hash("POST /v1/keys/\(old.keyID)/rotate", bodyData)),
                                           by: principal, origin: context.origin)
        return try answer(minted)
    }

    /// 201 with the raw key; a replay says so in `Idempotent-Replay`.
    private func answer(_ minted: MintedKey) throws -> Response {
        var response = try Response.json(CreatedKeyView(key: KeyView(minted.record, now: services.clock()), apiKey: minted.rawKey),
                                         status: .created)
        if minted.replayed { response.headers[.idempotentReplay] = "true" }
        return response
    }

    /// The `Idempotency-Key` header, checked: 1 to 200 characters.
    static func idempotencyKey(_ request: Request) throws -> String? {
        guard let key = request.headers[.idempotencyKey] else { return nil }
        guard !key.isEmpty, key.unicodeScalars.count <= Limits.maxIdempotencyKeyLength else {
            throw APIError.invalidRequest("Idempotency-Key must be 1 to \(Limits.maxIdempotencyKeyLength) characters")
        }
        return key
    }
}
