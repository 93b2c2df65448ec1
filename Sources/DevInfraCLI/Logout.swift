import ArgumentParser
import CredentialStore

/// `dev-infra logout`: forgets the key locally. Succeeds when there was nothing to forget, so that
/// scripts can run it unconditionally.
struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove the profile's stored key from the keyring or file.")

    @OptionGroup var options: ProfileOptions

    @Flag(help: "Remove the keys of every profile.")
    var all = false

    func run() throws { try run(in: .current) }

    func run(in context: CommandContext) throws {
        let store = try context.store()
        let removed: [String]
        if all {
            removed = try store.removeAll()
        } else {
            removed = try store.remove(profile: try options.resolve(in: context))
        }
        if removed.isEmpty {
            context.note(all ? "no stored keys to remove" : "profile \"\(try options.resolve(in: context))\" has no stored key")
        }
        removed.forEach { context.note("removed the key of \($0)") }
        if let variable = [CredentialStore.keyVariable, CredentialStore.keyFileVariable].first(where: { context.environment[$0].map { !$0.isEmpty } ?? false }) {
            context.note("warning: \(variable) is still set, so a key is still in use; unset it to log out completely")
        }
    }
}
