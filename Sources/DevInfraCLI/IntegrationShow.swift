import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra integration show TEAM/NAME`.
struct IntegrationShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one integration.")

    @OptionGroup var options: RemoteOptions
    @Argument(help: ArgumentHelp("TEAM/NAME, e.g. web/deploy-bot.", valueName: "team/name")) var id: String
    @Flag(help: "Print the API's JSON object.") var json = false

    func validate() throws { try IntegrationArgument.check(id) }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let integration = try await session.api { try await $0.integration(id: id) }
            context.stdout(json ? JSONOutput.encode(integration) : IntegrationText.lines(integration))
        }
    }
}
