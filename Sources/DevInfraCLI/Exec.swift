import ArgumentParser
import CredentialStore
import DevInfraCore
#if canImport(Glibc)
import Glibc
#endif

/// `dev-infra exec -- CMD ARGS`: replaces this process with CMD, its environment carrying the key,
/// so CMD's exit status and signals are its own with nothing in between.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command with DEV_INFRA_API_KEY and DEV_INFRA_API_URL set from the store.",
        discussion: "Usage: dev-infra exec -- CMD [ARGS...]. The command's exit status is passed through; 127 when it is not found."
    )

    @OptionGroup var options: ProfileOptions

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        if commandLine.isEmpty { throw ValidationError("give the command to run after --, as in: dev-infra exec -- make deploy") }
    }

    private var commandLine: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func run() throws { try run(in: .current) }

    func run(in context: CommandContext) throws {
        let profile = try options.resolve(in: context)
        let store = try context.store()
        let resolution = try store.resolve(profile: profile)
        resolution.warnings.forEach(context.note)
        let server = try store.server(profile: profile)
        // The child gets the key in its environment, where it may go anywhere DEV_INFRA_API_URL
        // says: a stored key must not leave for a server other than its profile's this way either.
        try store.checkDestination(of: resolution, to: server, profile: profile)
        setenv(CredentialStore.keyVariable, resolution.key.rawValue, 1)
        setenv(CredentialStore.urlVariable, server.url, 1)
        unsetenv(CredentialStore.keyFileVariable)
        let arguments = commandLine
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execvp(arguments[0], &argv)
        let code = errno
        throw ExecError(command: arguments[0], errno: code)
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
