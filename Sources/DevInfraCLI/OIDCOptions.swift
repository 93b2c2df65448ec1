import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `--oidc` and where its token comes from, for `login` and `exec`: a CI job trades its OIDC token
/// for a key that lives minutes, so no long-lived secret is stored in the CI system.
struct OIDCOptions: ParsableArguments {
    @Flag(help: "Exchange this CI job's OIDC token for a short-lived key (see dev-infra oidc-policy).")
    var oidc = false

    @Option(help: ArgumentHelp("With --oidc: the audience to ask GitHub Actions for (default: dev-infra).", valueName: "aud"))
    var audience: String?

    @Option(name: .customLong("oidc-token-file"), help: ArgumentHelp("With --oidc: read the token from this file.", valueName: "path"))
    var tokenFile: String?

    @Option(name: .customLong("oidc-token-env"), help: ArgumentHelp("With --oidc: read the token from this environment variable.", valueName: "name"))
    var tokenVariable: String?

    @Option(help: ArgumentHelp("With --oidc: the trust policy to use (default: any that matches).", valueName: "name"))
    var policy: String?

    static let defaultAudience = "dev-infra"

    func validate() throws {
        if !oidc, audience != nil || tokenFile != nil || tokenVariable != nil || policy != nil {
            throw ValidationError("--audience, --oidc-token-file, --oidc-token-env and --policy go with --oidc")
        }
        if tokenFile != nil && tokenVariable != nil { throw ValidationError("give the token with --oidc-token-file or --oidc-token-env, not both") }
        if audience?.isEmpty == true { throw ValidationError("--audience cannot be empty") }
    }

    /// Finds the token (see `OIDCTokenSource`) and exchanges it with the server, without any
    /// stored credential: the new key, once.
    func exchange(_ session: Session) async throws -> ExchangedKey {
        let source = OIDCTokenSource(session.context, options: session.httpOptions())
        let (token, origin) = try await source.token(file: tokenFile, variable: tokenVariable, audience: audience ?? Self.defaultAudience)
        if session.verbose { session.context.note("exchanging the OIDC token from \(origin)") }
        let exchanged = try await session.anonymousAPI { try await $0.exchangeOIDC(token: token, policy: policy) }
        let key = exchanged.key
        let expiry = key.expiresAt.map { "expires \(When.relative($0))" } ?? "does not expire"
        session.context.note(Printable.escaped("exchanged the OIDC token under policy \(exchanged.policy): key \(key.id) of \(exchanged.integration) "
            + "(\(key.scopes.map(\.rawValue).joined(separator: " "))), \(expiry)"))
        return exchanged
    }
}
