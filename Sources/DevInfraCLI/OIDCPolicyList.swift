import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra oidc-policy list`: every policy, in full (there are few, and every field matters).
struct OIDCPolicyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the trust policies (admins).")

    @OptionGroup var options: RemoteOptions
    @Flag(help: "Print the API's JSON objects.") var json = false

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let policies = try await session.api { try await $0.listPolicies() }
            if json {
                context.stdout(JSONOutput.encode(policies))
            } else if policies.isEmpty {
                context.note("no trust policies")
            } else {
                context.stdout(policies.map(PolicyText.lines).joined(separator: "\n"))
            }
        }
    }
}
