import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra show ID`: one key, every field.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one key.")

    @OptionGroup var options: RemoteOptions
    @Argument(help: "The key id: the 12 characters after dinf_.") var id: String
    @Flag(help: "Print the API's JSON object.") var json = false

    func validate() throws { try KeyIDArgument.check(id) }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let key = try await session.api { try await $0.key(id: id) }
            if json { context.stdout(JSONOutput.encode(key)); return }
            var lines = [("ID", key.id), ("Name", key.name), ("Owner", KeyText.owner(key)), ("Created by", key.createdBy ?? "-"),
                         ("Team", key.team ?? "-"), ("Scopes", key.scopes.map(\.rawValue).joined(separator: " ")), ("State", key.state.rawValue),
                         ("Created", When.day(key.createdAt)), ("Last used", key.lastUsedAt.map { When.relative($0) } ?? "never"),
                         ("Expires", key.expiresAt.map { "\(When.day($0)) (\(When.relative($0)))" } ?? "never"),
                         ("Rate limit", KeyText.rate(key.rateLimit)), ("Quota", KeyText.quota(key.quota))]
            if key.state == .disabled {
                lines.append(("Disabled", "its owner or its team is switched off; `dev-infra enable` switches it back on"))
            }
            if let revoked = key.revokedAt {
                lines.append(("Revoked", "\(When.day(revoked)) by \(key.revokedBy ?? "?")" + (key.revokeReason.map { ": \($0)" } ?? "")))
            }
            if let to = key.rotatedTo { lines.append(("Rotated to", to + (key.graceEndsAt.map { ", grace ends \(When.relative($0))" } ?? ""))) }
            if let from = key.rotatedFrom { lines.append(("Rotated from", from)) }
            context.stdout(lines.map { ($0.0 + ":").leftAligned(to: 14) + Printable.escaped($0.1) }.joined(separator: "\n") + "\n")
        }
    }
}

enum KeyIDArgument {
    static func check(_ id: String) throws {
        if id.hasPrefix("dinf_") { throw ValidationError("give the key id (the 12 characters after dinf_), not the key itself") }
        if !APIKey.isKeyID(id) { throw ValidationError("\"\(id)\" is not a key id: 12 letters and digits, as `dev-infra list` shows") }
    }
}
