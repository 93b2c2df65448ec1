import ArgumentParser
import CredentialStore
import DevInfraClient
import DevInfraCore

/// `dev-infra rotate [ID]`: a new key with the same name, scopes and team. Rotating the key this
/// profile uses stores the new one before reporting success; if it cannot be stored, the new key
/// is printed with the reason, and the old key keeps working through the grace period, so a rotated
/// key is never lost.
struct Rotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rotate a key (default: the one this profile uses).")

    @OptionGroup var options: RemoteOptions
    @Argument(help: "The key id (default: the key in use).") var id: String?
    @Option(help: ArgumentHelp("How long the old key keeps working: 0, 30m, 12h, 7d.", valueName: "duration")) var grace = "7d"
    @Flag(name: .shortAndLong, help: "Print only the new key.") var quiet = false
    @Flag(help: "Print the API's JSON object.") var json = false

    func validate() throws {
        if let id { try KeyIDArgument.check(id) }
        if DurationText.seconds(grace) == nil { throw ValidationError("--grace must be a duration such as 0, 30m, 12h or 7d") }
        if quiet && json { throw ValidationError("--quiet and --json cannot be combined") }
    }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let current = session.credential!
            let target = id ?? current.key.keyID
            let created = try await session.api { try await $0.rotate(id: target, graceSeconds: DurationText.seconds(grace)) }
            let graceNote = "the old key \(target) keeps working for \(grace)"
            guard target == current.key.keyID, let storage = storageKind(current.source) else {
                if target == current.key.keyID {
                    context.note("the key in use comes from \(current.source.summary), which dev-infra does not write: update it with the new key")
                }
                KeyPrinter.printCreated(created, quiet: quiet, json: json, context: context)
                context.note(graceNote)
                return
            }
            let newKey = try APIKey.parse(created.apiKey)
            do {
                let outcome = try session.store.save(newKey, profile: session.profile, apiURL: nil, preference: storage)
                if json { context.stdout(JSONOutput.encode(created)) } else if quiet { context.stdout(created.apiKey + "\n") }
                context.note("rotated \(target) to \(created.key.id); the new key is stored in \(outcome.location); \(graceNote)")
            } catch {
                if json { context.stdout(JSONOutput.encode(created)) } else { context.stdout(created.apiKey + "\n") }
                context.note("the new key could not be stored, so it is printed above: keep it. \(graceNote)")
                throw error
            }
        }
    }

    private func storageKind(_ source: CredentialSource) -> StoragePreference? {
        switch source {
        case .keyring: .keyring
        case .file: .file
        case .environment, .environmentFile: nil
        }
    }
}
