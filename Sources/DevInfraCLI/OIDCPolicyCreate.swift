import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra oidc-policy create`: trust one issuer's tokens, on conditions, for one integration.
struct OIDCPolicyCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a trust policy (admins).",
        discussion: """
        Example, for the main branch of acme/web on GitHub Actions: dev-infra oidc-policy create --name web-main \
        --issuer https://token.actions.githubusercontent.com --claim repository=acme/web --claim ref=refs/heads/main \
        --integration web/deploy-bot --scope projects:read
        """)

    @OptionGroup var options: RemoteOptions
    @Option(help: "The policy's name, e.g. web-main.") var name: String
    @Option(help: ArgumentHelp("The tokens' issuer (iss), e.g. https://token.actions.githubusercontent.com.", valueName: "url")) var issuer: String
    @Option(help: "A value the tokens' aud must hold.") var audience = "dev-infra"
    @Option(name: .customLong("claim"), help: ArgumentHelp("A claim the token must hold (repeatable): repository=acme/web, ref=refs/tags/v*.", valueName: "key=value"))
    var claims: [String] = []
    @Option(help: ArgumentHelp("The integration whose keys the exchange gives.", valueName: "team/name")) var integration: String
    @Option(name: .customLong("scope"), help: ArgumentHelp("A scope of the keys it gives (repeatable); within the integration's.", valueName: "scope"))
    var scopes: [String] = []
    @Option(help: ArgumentHelp("How long a key it gives works: 1m to 1h.", valueName: "duration")) var lifetime = "15m"
    @Flag(help: "Print the API's JSON object.") var json = false

    func validate() throws {
        try IntegrationArgument.check(integration, flag: "--integration")
        if scopes.isEmpty { throw ValidationError("name at least one --scope: the scopes of the keys it gives") }
        guard let seconds = DurationText.seconds(lifetime), (60...3600).contains(seconds) else {
            throw ValidationError("--lifetime must be a duration from 1m to 1h, such as 15m")
        }
        if let bad = claims.first(where: { !$0.contains("=") || $0.hasPrefix("=") }) {
            throw ValidationError("--claim takes key=value, not \"\(bad)\"")
        }
        // Without a condition, every token of the issuer (every repository on GitHub) would do.
        if claims.isEmpty { throw ValidationError("name at least one --claim, such as repository=acme/web: without one, any job of the issuer would get keys") }
        if Set(claimPairs.map(\.key)).count != claims.count { throw ValidationError("each --claim key may be given once") }
        if case .failure(let error) = ServerURL.validate(issuer) {
            throw ValidationError("--issuer: \(error.message.replacingOccurrences(of: "server URL", with: "issuer URL"))")
        }
    }

    var claimPairs: [(key: String, value: String)] {
        claims.map { claim in
            let parts = claim.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    var claimConditions: [String: String] {
        var conditions: [String: String] = [:]
        for pair in claimPairs { conditions[pair.key] = pair.value }
        return conditions
    }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let request = DevInfraAPI.NewTrustPolicy(name: name, issuer: issuer, audience: audience,
                                                     claims: claimConditions, integration: integration,
                                                     scopes: scopes, lifetimeSeconds: DurationText.seconds(lifetime))
            let policy = try await session.api { try await $0.createPolicy(request) }
            if json { context.stdout(JSONOutput.encode(policy)); return }
            context.stdout(PolicyText.lines(policy))
            context.note(Printable.escaped("created trust policy \(policy.name): a CI job whose token matches gets a key of \(policy.integration) "
                + "with `dev-infra login --oidc --audience \(policy.audience)`"))
        }
    }
}
