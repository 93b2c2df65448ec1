import CredentialStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Everything a command reads or writes outside itself, so a test can run it in a temp folder
/// with buffers for streams and a chosen environment.
public struct CommandContext: Sendable {
    public var environment: [String: String]
    /// All of stdin, for secrets piped in.
    public var readStdin: @Sendable () -> String
    /// Asks on the terminal with echo off; nil when there is no terminal.
    public var readHidden: @Sendable (_ prompt: String) -> String?
    /// Asks on the terminal with echo on; nil when there is no terminal.
    public var readLine: @Sendable (_ prompt: String) -> String?
    public var stdout: @Sendable (String) -> Void
    public var stderr: @Sendable (String) -> Void
    public var stdinIsTerminal: Bool
    /// Whether stderr is a terminal (and not a dumb one): where a spinner may redraw its line.
    public var stderrIsTerminal: Bool
    /// nil means the real Secret Service.
    public var keyring: (any Keyring)?
    /// A file's bytes, or nil when it cannot be read (an OIDC token file, say).
    public var readFile: @Sendable (_ path: String) -> Data?

    public init(environment: [String: String], readStdin: @escaping @Sendable () -> String,
                readHidden: @escaping @Sendable (String) -> String?,
                readLine: @escaping @Sendable (String) -> String? = { _ in nil }, stdout: @escaping @Sendable (String) -> Void,
                stderr: @escaping @Sendable (String) -> Void, stdinIsTerminal: Bool, keyring: (any Keyring)? = nil,
                readFile: @escaping @Sendable (String) -> Data? = { FileManager.default.contents(atPath: $0) },
                stderrIsTerminal: Bool = false) {
        self.environment = environment
        self.readStdin = readStdin
        self.readHidden = readHidden
        self.readLine = readLine
        self.stdout = stdout
        self.stderr = stderr
        self.stdinIsTerminal = stdinIsTerminal
        self.keyring = keyring
        self.readFile = readFile
        self.stderrIsTerminal = stderrIsTerminal
    }

    /// The context commands run in; tests may replace it before calling a command's `run()`.
    nonisolated(unsafe) public static var current: CommandContext = .live()

    public static func live() -> CommandContext {
        let environment = Terminal.environment()
        return CommandContext(
            environment: environment,
            readStdin: { Terminal.readAll(fd: 0) },
            readHidden: { Terminal.readHidden(prompt: $0) },
            readLine: { Terminal.readLine(prompt: $0) },
            stdout: { Terminal.writeOut($0) },
            stderr: { Terminal.writeErr($0) },
            stdinIsTerminal: isatty(0) == 1,
            stderrIsTerminal: isatty(2) == 1 && environment["TERM"] != "dumb"
        )
    }

    public func store() throws(CredentialStoreError) -> CredentialStore {
        try CredentialStore(environment: environment, keyring: keyring)
    }

    /// A note for humans on stderr, prefixed so it is not mistaken for a tool's output.
    func note(_ text: String) { stderr("dev-infra: \(text)\n") }
}
