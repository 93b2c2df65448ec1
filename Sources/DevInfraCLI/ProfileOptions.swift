import ArgumentParser
import CredentialStore

/// `--profile`, shared by every command that reads or writes a credential.
public struct ProfileOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The profile to use (default: $DEV_INFRA_PROFILE, else \"default\").", valueName: "name"))
    public var profile: String?

    public init() {}

    public func resolve(in context: CommandContext) throws(CredentialStoreError) -> String {
        try CredentialStore.profileName(flag: profile, environment: context.environment)
    }
}
