import DevInfraCore
import Foundation
import Hummingbird

/// `/v1/integrations` and the kill switches `/v1/disable`, `/v1/enable`. HTTP only: the rules are
/// in `IdentityService`.
struct IntegrationsController {
    let services: Services
    var identities: IdentityService { services.identities }

    func register(_ group: RouterGroup<ServerContext>) {
        group.post("integrations", use: create)
        group.get("integrations", use: list)
        group.get("integrations/{team}/{name}", use: show)
        group.delete("integrations/{team}/{name}", use: delete)
        group.post("disable") { request, context in try await self.toggle(request, context, disabled: true) }
        group.post("enable") { request, context in try await self.toggle(request, context, disabled: false) }
    }

    struct CreateBody: Decodable {
        var team: String
        var name: String
        var scopes: [String]
        var rateLimit: RateLimitPolicy?
        enum CodingKeys: String, CodingKey { case team, name, scopes, rateLimit = "rate_limit" }
    }

    func create(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try KeyRules.require(.keysWrite, principal)
        let input = try await services.decode(CreateBody.self, from: request, allowed: ["team", "name", "scopes", "rate_limit"])
        let made = try await identities.createIntegration(team: input.team, name: input.name, scopes: input.scopes, rateLimit: input.rateLimit,
                                                          by: principal, origin: context.origin)
        return try .json(IntegrationView(made), status: .created)
    }

    struct Page: Encodable { var items: [IntegrationView] }

    func list(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let team = request.uri.queryParameters["team"].map(String.init)
        // Team names are at most 64 characters (`admin team add`).
        if let team, team.isEmpty || team.unicodeScalars.count > 64 {
            throw APIError.invalidRequest("team must be 1 to 64 characters")
        }
        return try .json(Page(items: try await identities.integrations(team: team, by: principal).map(IntegrationView.init)))
    }

    func show(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        return try .json(IntegrationView(try await identities.integration(Self.id(context), by: principal)))
    }

    func delete(_ request: Request, context: ServerContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        return try .json(IntegrationView(try await identities.deleteIntegration(Self.id(context), by: principal, origin: context.origin)))
    }

    static func id(_ context: ServerContext) -> String {
        "\(context.parameters.get("team") ?? "")/\(context.parameters.get("name") ?? "")"
    }

    // MARK: Kill switches

    struct SwitchBody: Decodable {
        var user: String?
        var integration: String?
        var team: String?
        var reason: String?
    }

    struct SwitchView: Encodable {
        var kind: String
        var name: String
        var disabled: Bool
        var disabledAt: Date?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: DynamicKey.self)
            try c.encode(name, forKey: DynamicKey(kind))
            try c.encode(disabled, forKey: DynamicKey("disabled"))
            try c.encode(disabledAt, forKey: DynamicKey("disabled_at"))
        }
    }

    struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func toggle(_ request: Request, _ context: ServerContext, disabled: Bool) async throws -> Response {
        let principal = try context.requirePrincipal()
        let input = try await services.decode(SwitchBody.self, from: request, allowed: ["user", "integration", "team", "reason"])
        let targets: [IdentityService.Target] = [input.user.map { .user($0) }, input.integration.map { .integration($0) },
                                                 input.team.map { .team($0) }].compactMap { $0 }
        guard targets.count == 1, let target = targets.first else {
            throw APIError.invalidRequest("name exactly one of user, integration or team")
        }
        let switched = try await identities.setSwitch(target, disabled: disabled, reason: input.reason, by: principal, origin: context.origin)
        return try .json(SwitchView(kind: switched.kind, name: switched.name, disabled: switched.disabledAt != nil, disabledAt: switched.disabledAt))
    }
}
