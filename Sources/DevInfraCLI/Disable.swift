import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra disable`: the kill switch. The keys are kept, so `enable` brings them all back with
/// nothing to redeploy; revoking would need a new key everywhere.
struct Disable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop every key of a user, an integration or a team at once, until `dev-infra enable`.",
        discussion: "The keys fail with key_disabled (exit 3) from the next request on, on every server replica. Keys are kept, not revoked.")

    @OptionGroup var options: RemoteOptions
    @OptionGroup var target: KillSwitchOptions
    @Flag(help: "Print the API's JSON object.") var json = false

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let state = try await session.api { try await $0.disable(target.target, reason: target.reason) }
            if json { context.stdout(JSONOutput.encode(state)); return }
            context.note(Printable.escaped("disabled \(target.described): its keys fail with key_disabled until `dev-infra enable \(target.flags)`"))
        }
    }
}
