import ArgumentParser
import CredentialStore

/// `dev-infra token`: the resolved key on stdout and nothing else, for `$(dev-infra token)` and pipes.
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the API key in use to stdout, and nothing else.")

    @OptionGroup var options: ProfileOptions

    @Flag(help: "Print the key without a trailing newline.")
    var noNewline = false

    func run() throws { try run(in: .current) }

    func run(in context: CommandContext) throws {
        try Self.printToken(profileFlag: options.profile, noNewline: noNewline, in: context)
    }

    /// The whole command, callable without parsing (see `TokenFastPath`).
    static func printToken(profileFlag: String?, noNewline: Bool, in context: CommandContext) throws {
        let profile = try CredentialStore.profileName(flag: profileFlag, environment: context.environment)
        let resolution = try context.store().resolve(profile: profile)
        resolution.warnings.forEach(context.note)
        context.stdout(resolution.key.rawValue + (noNewline ? "" : "\n"))
    }
}
