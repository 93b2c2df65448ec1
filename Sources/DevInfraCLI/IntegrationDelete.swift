import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra integration delete TEAM/NAME`: every key of it is revoked at once, so it asks first on
/// a terminal and wants `--yes` elsewhere, as `revoke` does.
struct IntegrationDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an integration; every key of it is revoked at once.")

    @OptionGroup var options: RemoteOptions
    @Argument(help: ArgumentHelp("TEAM/NAME, e.g. web/deploy-bot.", valueName: "team/name")) var id: String
    @Flag(name: .shortAndLong, help: "Do not ask for confirmation (required when stdin is not a terminal).") var yes = false
    @Flag(help: "Print the API's JSON object.") var json = false

    func validate() throws { try IntegrationArgument.check(id) }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            if !yes {
                guard context.stdinIsTerminal,
                      let answer = context.readLine("Delete integration \(id)? Every key of it stops working at once. [y/N] ") else {
                    throw GenericError(.invalidArgument, "deleting needs confirmation: add --yes when stdin is not a terminal")
                }
                guard ["y", "yes"].contains(answer.lowercased()) else {
                    context.note("not deleted")
                    return
                }
            }
            let session = try Session(options, context)
            let integration = try await session.api { try await $0.deleteIntegration(id: id) }
            if json { context.stdout(JSONOutput.encode(integration)) }
            context.note(Printable.escaped("deleted integration \(integration.id); its keys are revoked"))
        }
    }
}
