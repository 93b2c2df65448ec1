import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra revoke ID`: immediate, so it asks first on a terminal and wants `--yes` elsewhere.
struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke a key; it stops working at once.")

    @OptionGroup var options: RemoteOptions
    @Argument(help: "The key id.") var id: String
    @Option(help: "Why, for the audit log.") var reason: String?
    @Flag(name: .shortAndLong, help: "Do not ask for confirmation (required when stdin is not a terminal).") var yes = false
    @Flag(help: "Print the API's JSON object.") var json = false

    func validate() throws { try KeyIDArgument.check(id) }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            if !yes {
                guard context.stdinIsTerminal, let answer = context.readLine("Revoke key \(id)? It stops working at once. [y/N] ") else {
                    throw GenericError(.invalidArgument, "revoking needs confirmation: add --yes when stdin is not a terminal")
                }
                guard ["y", "yes"].contains(answer.lowercased()) else {
                    context.note("not revoked")
                    return
                }
            }
            let session = try Session(options, context)
            let key = try await session.api { try await $0.revoke(id: id, reason: reason) }
            if json { context.stdout(JSONOutput.encode(key)) }
            context.note("revoked key \(key.id) \"\(key.name)\"")
        }
    }
}
