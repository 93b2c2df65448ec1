import ArgumentParser
import DevInfraClient
import DevInfraCore
import Foundation

/// `dev-infra verify`: is this key good, and what is it? The key comes on stdin (never a flag: flags
/// show in `ps`) and is sent to the server as its own credential (`GET /v1/check`), so no stored
/// credential is needed, and the answer is the one a gateway would get for it.
struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a key read on stdin: its owner, team, scopes, state and expiry.",
        discussion: """
        Exits 0 when the server accepts the key (for every --scope and --team given), 3 when it does \
        not (malformed, unknown, revoked, expired: the reason code ends the stderr line; a malformed \
        key is refused without asking the server), 4 when it lacks a --scope or --team, 7 when it is \
        rate limited. The check counts as a use of the key.
        """)

    @OptionGroup var options: RemoteOptions
    @Option(name: .customLong("scope"), help: ArgumentHelp("A scope the key must hold (repeatable).", valueName: "scope"))
    var scopes: [String] = []
    @Option(help: "A team the key must be able to act for.") var team: String?
    @Flag(name: .shortAndLong, help: "Print nothing: the exit status says it.") var quiet = false
    @Flag(help: "Print the server's JSON answer.") var json = false

    func validate() throws {
        if quiet && json { throw ValidationError("--quiet and --json cannot be combined") }
    }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let key = try Self.readKey(context)
            let session = try Session(options, context, requireCredential: false)
            let result = try await session.api(key: key) { try await $0.check(scopes: scopes, team: team) }
            if quiet { return }
            if json { context.stdout(JSONOutput.encode(result)); return }
            let lines = [("Owner", result.user), ("Key id", result.keyId ?? "- (a signed-in token)"), ("Team", result.team ?? "-"),
                         ("Scopes", result.scopes.map(\.rawValue).joined(separator: " ")), ("State", result.state.rawValue),
                         ("Expires", result.expiresAt.map { "\(When.day($0)) (\(When.relative($0)))" } ?? "never")]
            context.stdout(lines.map { ($0.0 + ":").leftAligned(to: 9) + Printable.escaped($0.1) }.joined(separator: "\n") + "\n")
        }
    }

    /// One key (or token) on stdin, or typed at a hidden prompt. A `dinf_` key's checksum is
    /// checked here: a mistyped or truncated key never leaves the machine.
    static func readKey(_ context: CommandContext) throws -> String {
        let text = context.stdinIsTerminal ? (context.readHidden("Key to verify: ") ?? "") : context.readStdin()
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let key = lines.first else { throw GenericError(.missingCredentials, "no key on stdin: pipe one in, e.g. `printenv KEY | dev-infra verify`") }
        guard lines.count == 1 else { throw GenericError(.invalidArgument, "stdin holds \(lines.count) lines; give one key per run") }
        if key.hasPrefix(APIKey.prefix) {
            do { _ = try APIKey.parse(key) } catch { throw GenericError(.malformedKey, "the key is malformed: \(error.detail)") }
        }
        return key
    }
}
