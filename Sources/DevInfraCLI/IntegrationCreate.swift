import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra integration create TEAM/NAME --scope ...`.
struct IntegrationCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an integration of a team (admins and team admins).")

    @OptionGroup var options: RemoteOptions
    @Argument(help: ArgumentHelp("TEAM/NAME, e.g. web/deploy-bot.", valueName: "team/name")) var id: String
    @Option(name: .customLong("scope"), help: ArgumentHelp("A scope its keys may hold (repeatable); not admin.", valueName: "scope"))
    var scopes: [String] = []
    @Option(help: ArgumentHelp("One rate limit shared by all its keys: 600/1m (default: the server's).", valueName: "rate"))
    var rateLimit: RateSpec?
    @Flag(help: "Print the API's JSON object.") var json = false

    func validate() throws {
        try IntegrationArgument.check(id)
        if scopes.isEmpty { throw ValidationError("name at least one --scope: the scopes its keys may hold") }
        if scopes.contains("admin") { throw ValidationError("an integration cannot hold admin") }
    }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let integration = try await session.api { try await $0.createIntegration(id: id, scopes: scopes, rateLimit: rateLimit) }
            if json { context.stdout(JSONOutput.encode(integration)); return }
            context.note(Printable.escaped("created integration \(integration.id) (\(integration.scopes.map(\.rawValue).joined(separator: " "))); "
                + "mint its keys with: dev-infra create --integration \(integration.id) --name NAME --scope SCOPE"))
        }
    }
}
