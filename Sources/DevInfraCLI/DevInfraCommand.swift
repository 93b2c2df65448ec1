import ArgumentParser
import DevInfraCore
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// `dev-infra`: the root command. Its discussion is the man page's description, so the
/// resolution order and the exit codes are documented where they are defined.
public struct DevInfraCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dev-infra",
        abstract: "Manage dev-infra API keys: log in once, then every tool and script finds the key.",
        discussion: """
        A key is found in this order, first hit wins (`dev-infra status` says which):

          1. DEV_INFRA_API_KEY, or DEV_INFRA_API_KEY_FILE naming a file that holds the key;
          2. the profile's entry in the Secret Service keyring, when the profile stores its key there;
          3. the profile's entry in $XDG_CONFIG_HOME/dev-infra/credentials.yml (default ~/.config).

        DEV_INFRA_API_URL overrides the profile's server URL (a stored key is never sent to a server
        other than its profile's: with another URL, give the key in DEV_INFRA_API_KEY too);
        DEV_INFRA_PROFILE picks the profile; DEV_INFRA_KEYRING_TIMEOUT bounds every keyring call
        (seconds, default 2); DEV_INFRA_HTTP_TIMEOUT bounds a request (seconds, at most 3600).
        Certificates are always verified against the system's store; DEV_INFRA_CA_CERT (or the
        profile's ca_cert in config.yml) names a private CA's PEM certificate to trust as well.

        Exit status:
        \(ExitStatus.allCases.map { "  \(String($0.rawValue).leftAligned(to: 4))\($0.summary)" }.joined(separator: "\n"))
          127 (exec) the command was not found; 126 (exec) it could not be run
        The reason code of a failure ends its stderr line, in brackets.
        """,
        version: DevInfraVersion.current,
        subcommands: [Login.self, Logout.self, Status.self, Token.self, Create.self, List.self, Show.self, Update.self, Revoke.self, Rotate.self,
                      Disable.self, Enable.self, IntegrationGroup.self, OIDCPolicyGroup.self, Verify.self, Api.self, Exec.self, Auth.self]
    )

    public init() {}

    /// The process entry point. `token` is served synchronously, before the Swift concurrency
    /// runtime starts its threads (about two milliseconds); everything else runs async.
    public static func start(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        if let fast = TokenFastPath.match(arguments) {
            do {
                try Token.printToken(profileFlag: fast.profile, noNewline: fast.noNewline, in: .current)
                Glibc.exit(ExitStatus.ok.rawValue)
            } catch {
                fail(error)
            }
        }
        Task.detached { await runMain(arguments) }
        dispatchMain()
    }

    /// Parses and runs, turning a `DevInfraError` into its stderr line and exit status.
    public static func runMain(_ arguments: [String]) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Glibc.exit(ExitStatus.ok.rawValue)
        } catch {
            fail(error)
        }
    }

    private static func fail(_ error: any Error) -> Never {
        if let error = error as? any DevInfraError {
            CommandContext.current.stderr("dev-infra: error: \(error.description)\n")
            Glibc.exit((error as? ExecError)?.status ?? error.exitStatus.rawValue)
        }
        exit(withError: error)
    }
}

/// `dev-infra auth ...`: the same commands under the names people know from `gh auth`.
struct Auth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The login, logout, status and token commands, as `gh auth` names them.",
        subcommands: [Login.self, Logout.self, Status.self, Token.self]
    )
}
