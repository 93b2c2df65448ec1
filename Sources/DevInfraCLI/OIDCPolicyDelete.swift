import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra oidc-policy delete NAME`: tokens are no longer exchanged under it.
struct OIDCPolicyDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a trust policy (admins).")

    @OptionGroup var options: RemoteOptions
    @Argument(help: "The policy's name.") var name: String
    @Flag(help: "Print the API's JSON object.") var json = false

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let policy = try await session.api { try await $0.deletePolicy(name: name) }
            if json { context.stdout(JSONOutput.encode(policy)); return }
            context.note(Printable.escaped("deleted trust policy \(policy.name): its tokens are no longer exchanged"))
        }
    }
}
