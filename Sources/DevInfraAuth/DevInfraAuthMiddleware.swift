import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// A Hummingbird middleware that lets through only requests whose credential dev-infra accepts for
/// `scopes` and `team`, and puts who it belongs to in `context.devInfraPrincipal`.
///
/// The credential is read as dev-infra-server reads it: `Authorization: Bearer <key or token>`, or
/// `X-API-Key: <key>`. A key's format and checksum are checked here first, so a mistyped or forged
/// key never leaves the process. Refusals carry dev-infra's reason codes and statuses (401, 403,
/// 429); when dev-infra cannot be asked, 503: the middleware fails closed.
public struct DevInfraAuthMiddleware<Context: DevInfraAuthRequestContext>: RouterMiddleware {
    let introspector: DevInfraIntrospector
    let scopes: Set<String>
    let team: String?

    public init(_ introspector: DevInfraIntrospector, scopes: Set<String> = [], team: String? = nil) {
        self.introspector = introspector
        self.scopes = scopes
        self.team = team
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let credential = try Self.credential(request)
        switch try await introspector.introspect(credential, scopes: scopes, team: team) {
        case .active(let principal):
            // What was asked is checked again in the answer: a server that ignored `scope` or
            // `team` must not let a request through.
            if let missing = scopes.subtracting(principal.scopes).sorted().first {
                throw DevInfraAuthError(reason: ReasonCode.insufficientScope.rawValue, scope: missing)
            }
            if let team, let bound = principal.team, bound != team { throw DevInfraAuthError(reason: ReasonCode.teamMismatch.rawValue) }
            var context = context
            context.devInfraPrincipal = principal
            return try await next(request, context)
        case .inactive(let reason, let retryAfter):
            let missing = reason == ReasonCode.insufficientScope.rawValue ? scopes.sorted().joined(separator: " ") : nil
            throw DevInfraAuthError(reason: reason, scope: missing, retryAfter: retryAfter)
        }
    }

    /// The request's credential, checked locally as far as it can be.
    static func credential(_ request: Request) throws -> String {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw DevInfraAuthError(reason: ReasonCode.invalidToken.rawValue)
            }
            return try checked(parts[1].trimmingCharacters(in: .whitespaces))
        }
        if let header = request.headers[.xAPIKey] {
            let key = header.trimmingCharacters(in: .whitespaces)
            guard key.hasPrefix(APIKey.prefix) else { throw DevInfraAuthError(reason: ReasonCode.malformedKey.rawValue) }
            return try checked(key)
        }
        var missing = DevInfraAuthError(status: .unauthorized, code: ReasonCode.missingCredentials.rawValue,
                                        detail: "send a key as \"Authorization: Bearer dinf_...\" or \"X-API-Key\"")
        missing.bareChallenge = true
        throw missing
    }

    static func checked(_ credential: String) throws -> String {
        guard !credential.isEmpty else { throw DevInfraAuthError(reason: ReasonCode.invalidToken.rawValue) }
        if credential.hasPrefix(APIKey.prefix) {
            do { _ = try APIKey.parse(credential) } catch { throw DevInfraAuthError(reason: ReasonCode.malformedKey.rawValue) }
        }
        return credential
    }
}

extension HTTPField.Name {
    static let xAPIKey = Self("X-API-Key")!
}
