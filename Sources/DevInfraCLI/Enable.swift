import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra enable`: undoes `disable`; the same keys work again.
struct Enable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Switch a user, an integration or a team back on after `dev-infra disable`.")

    @OptionGroup var options: RemoteOptions
    @OptionGroup var target: KillSwitchOptions
    @Flag(help: "Print the API's JSON object.") var json = false

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let state = try await session.api { try await $0.enable(target.target, reason: target.reason) }
            if json { context.stdout(JSONOutput.encode(state)); return }
            context.note(Printable.escaped("enabled \(target.described): its keys work again"))
        }
    }
}
