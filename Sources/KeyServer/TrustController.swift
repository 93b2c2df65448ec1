import DevInfraCore
import Foundation
import Hummingbird

/// `POST /v1/auth/oidc` (no credential: the CI token is the credential) and the admins'
/// `/v1/oidc/policies`. HTTP only: the rules are in `TrustService`.
struct TrustController {
    let services: Services
    var trust: TrustService { services.trust }

    func register(_ v1: RouterGroup<ServerContext>, protected: RouterGroup<ServerContext>) {
        v1.post("auth/oidc", use: exchange)
        protected.post("oidc/policies", use: create)
        protected.get("oidc/policies", use: list)
        protected.delete("oidc/policies/{name}", use: delete)
    }

    struct PolicyBody: Decodable {
        var name: String
        var issuer: String
        var audience: String
        var claims: [String: String]?
        var integration: String
        var scopes: [String]
        var lifetimeSeconds: Int?
        enum CodingKeys: String, CodingKey { case name, issuer, audience, claims, integration, scopes, lifetimeSeconds = "lifetime_seconds" }
    }

    struct PolicyView: Encodable {
        var name: String
        var issuer: String
        var audience: String
        var claims: [String: String]
        var integration: String
        var scopes: [String]
        var lifetimeSeconds: Int
        var createdBy: String
        var createdAt: Date
        enum CodingKeys: String, CodingKey {
            case name, issuer, audience, claims, integration, scopes, lifetimeSeconds = "lifetime_seconds", createdBy = "created_by", createdAt = "created_at"
        }
        init(_ p: TrustPolicy) {
            name = p.name
            issuer = p.issuer
            audience = p.audience
            claims = p.claims
            integration = p.integration
            scopes = p.scopes.sorted().map(\.rawValue)
            lifetimeSeconds = p.lifetimeSeconds
            createdBy = p.createdBy
            createdAt = p.createdAt
        }
    }

    struct Page: Encodable { var items: [PolicyView] }

    func create(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let input = try await services.decode(PolicyBody.self, from: request,
                                              allowed: ["name", "issuer", "audience", "claims", "integration", "scopes", "lifetime_seconds"])
        let policy = try await trust.createPolicy(.init(name: input.name, issuer: input.issuer, audience: input.audience, claims: input.claims ?? [:],
                                                        integration: input.integration, scopes: input.scopes, lifetimeSeconds: input.lifetimeSeconds),
                                                  by: principal, origin: context.origin)
        return try .json(PolicyView(policy), status: .created)
    }

    func list(_ request: Request, context: ServerContext) async throws -> Response {
        try .json(Page(items: try await trust.policies(by: try context.requirePrincipal()).map(PolicyView.init)))
    }

    func delete(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        return try .json(PolicyView(try await trust.deletePolicy(context.parameters.get("name") ?? "", by: principal, origin: context.origin)))
    }

    struct ExchangeBody: Decodable {
        var token: String
        var policy: String?
    }

    struct ExchangeView: Encodable {
        var key: KeyView
        var apiKey: String
        var policy: String
        var integration: String
        enum CodingKeys: String, CodingKey { case key, policy, integration, apiKey = "api_key" }
    }

    func exchange(_ request: Request, context: ServerContext) async throws -> Response {
        let now = services.clock()
        if let wait = trust.exchanges.take(ClientAddress.bucket(context.client), now: now) {
            services.reject(.init(at: now, event: "oidc.throttled", code: ReasonCode.rateLimited.rawValue), context)
            throw AuthMiddleware.tooMany("too many token exchanges from this address", wait)
        }
        do {
            let input = try await services.decode(ExchangeBody.self, from: request, allowed: ["token", "policy"])
            let exchanged = try await trust.exchange(token: input.token, policyName: input.policy, origin: context.origin)
            return try .json(ExchangeView(key: KeyView(exchanged.minted.record, now: services.clock()), apiKey: exchanged.minted.rawKey,
                                          policy: exchanged.policy.name, integration: exchanged.minted.record.ownerName), status: .created)
        } catch let error as APIError {
            // Refusals are counted rows (a misconfigured pipeline retries in a loop), with their reason code.
            services.reject(.init(at: now, event: "oidc.refused", code: error.code), context)
            throw error
        }
    }
}
