import ArgumentParser
import CredentialStore
import DevInfraClient
import DevInfraCore
#if canImport(Glibc)
import Glibc
#endif

/// `dev-infra exec -- CMD ARGS`: replaces this process with CMD, its environment carrying the key,
/// so CMD's exit status and signals are its own with nothing in between.
struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command with DEV_INFRA_API_KEY and DEV_INFRA_API_URL set from the store.",
        discussion: """
        Usage: dev-infra exec -- CMD [ARGS...]. The command's exit status is passed through; 127 when it is not found. \
        With --oidc, the key is not the stored one but a short-lived key exchanged for this CI job's OIDC token \
        (found as `dev-infra login --oidc` finds it), and nothing is stored.
        """
    )

    @OptionGroup var options: ProfileOptions
    @OptionGroup var oidc: OIDCOptions

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        if commandLine.isEmpty { throw ValidationError("give the command to run after --, as in: dev-infra exec -- make deploy") }
    }

    private var commandLine: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        let found: (key: String, url: String)
        if oidc.oidc {
            found = try await exchangedKey(context)
        } else {
            found = try storedKey(context)
        }
        setenv(CredentialStore.keyVariable, found.key, 1)
        setenv(CredentialStore.urlVariable, found.url, 1)
        unsetenv(CredentialStore.keyFileVariable)
        let arguments = commandLine
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execvp(arguments[0], &argv)
        let code = errno
        throw ExecError(command: arguments[0], errno: code)
    }

    private func storedKey(_ context: CommandContext) throws -> (key: String, url: String) {
        let profile = try options.resolve(in: context)
        let store = try context.store()
        let resolution = try store.resolve(profile: profile)
        resolution.warnings.forEach(context.note)
        let server = try store.server(profile: profile)
        // The child gets the key in its environment, where it may go anywhere DEV_INFRA_API_URL
        // says: a stored key must not leave for a server other than its profile's this way either.
        try store.checkDestination(of: resolution, to: server, profile: profile)
        return (resolution.key.rawValue, server.url)
    }

    /// A key for the server that minted it (the profile's, or DEV_INFRA_API_URL), so it goes nowhere else.
    private func exchangedKey(_ context: CommandContext) async throws -> (key: String, url: String) {
        let session = try Session(profile: options, verbose: false, context, requireCredential: false)
        let exchanged = try await oidc.exchange(session)
        return (exchanged.apiKey, session.server.url)
    }
}

/// exec failed: 127 when the command is not found, 126 when it cannot be run, as shells do.
struct ExecError: DevInfraError {
    let command: String
    let errno: Int32
    var reason: ReasonCode { .commandFailed }
    var message: String {
        errno == ENOENT ? "command not found: \(command). Check its name and your PATH."
            : "cannot run \(command): \(String(cString: strerror(errno)))"
    }
    var status: Int32 { errno == ENOENT ? 127 : 126 }
}
