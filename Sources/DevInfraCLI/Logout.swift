import ArgumentParser
import CredentialStore
import DevInfraCore

/// `dev-infra logout`: forgets the key locally; `--revoke` revokes it on the server first.
/// Succeeds when there was nothing to forget, so that scripts can run it unconditionally.
struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove the profile's stored key; --revoke also revokes it on the server.")

    @OptionGroup var options: RemoteOptions

    @Flag(help: "Remove the keys of every profile.")
    var all = false

    @Flag(help: "Revoke the key on the server first; if that fails, nothing is forgotten.")
    var revoke = false

    func validate() throws {
        if all && revoke { throw ValidationError("--revoke works on one profile; run it per profile") }
    }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        let store = try context.store()
        let profile = try options.profile.resolve(in: context)
        if revoke {
            let session = try Session(options, context)
            guard let credential = session.credential, credential.source.isStored else {
                throw GenericError(.invalidArgument, "the key in use comes from the environment, not from this profile's store; revoke it with: dev-infra revoke ID")
            }
            let key = try await session.api { try await $0.revoke(id: credential.key.keyID, reason: "dev-infra logout --revoke") }
            context.note("revoked key \(key.id) on \(session.server.url)")
        }
        let removed = all ? try store.removeAll() : try store.remove(profile: profile)
        if removed.isEmpty {
            context.note(all ? "no stored keys to remove" : "profile \"\(profile)\" has no stored key")
        }
        removed.forEach { context.note("removed the key of \($0)") }
        if let variable = [CredentialStore.keyVariable, CredentialStore.keyFileVariable].first(where: { context.environment[$0].map { !$0.isEmpty } ?? false }) {
            context.note("warning: \(variable) is still set, so a key is still in use; unset it to log out completely")
        }
    }
}
