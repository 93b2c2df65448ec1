import ArgumentParser
import CredentialStore
import DevInfraCore

/// `dev-infra login`: stores a key for the profile. The key comes from stdin or a hidden prompt,
/// never from a flag, since flags show in `ps` and shell history.
struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store an API key for a profile.",
        discussion: """
        The key is read from stdin (`dev-infra login --with-token < key.txt`), or asked for with a \
        hidden prompt on a terminal. --storage auto uses the Secret Service keyring when one is \
        running and the file otherwise, and says which; a keyring that is running but fails is an error.
        """
    )

    @OptionGroup var options: ProfileOptions

    @Flag(help: "Read the key from stdin.")
    var withToken = false

    @Option(help: ArgumentHelp("The server URL this profile talks to (https, or http to a loopback address).", valueName: "url"))
    var apiURL: String?

    @Option(help: ArgumentHelp("Where to keep the key: auto, keyring or file.", valueName: "storage"))
    var storage: StoragePreference = .auto

    func run() throws { try run(in: .current) }

    func run(in context: CommandContext) throws {
        let profile = try options.resolve(in: context)
        let key = try APIKey.parse(try readKey(in: context))
        let store = try context.store()
        let outcome = try store.save(key, profile: profile, apiURL: apiURL, preference: storage)
        outcome.notes.forEach(context.note)
        context.note("logged in: profile \"\(profile)\" uses \(key.masked), stored in \(outcome.location)")
        if context.environment[CredentialStore.keyVariable].map({ !$0.isEmpty }) ?? false {
            context.note("warning: \(CredentialStore.keyVariable) is set and will keep winning over the stored key; unset it to use this one")
        }
    }

    private func readKey(in context: CommandContext) throws -> String {
        if withToken && !context.stdinIsTerminal { return context.readStdin() }
        guard context.stdinIsTerminal, let typed = context.readHidden("Paste your API key (input is hidden): ") else {
            throw GenericError(.notATerminal, "no key given: stdin is not a terminal. Log in non-interactively with: dev-infra login --with-token < key.txt")
        }
        return typed
    }
}

extension StoragePreference: ExpressibleByArgument {}
