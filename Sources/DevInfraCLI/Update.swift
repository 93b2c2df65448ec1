import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra update ID`: narrows a key where it is deployed (fewer scopes, an earlier expiry, a
/// lower rate, a quota) without a new key to hand out. Widening needs a new key, or an admin.
struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Narrow a key in place: its name, scopes, expiry, rate limit or quota.",
        discussion: """
        Changes may only narrow: scopes a subset of the key's, an expiry no later than its current one, \
        a lower rate, a lower quota with the same period (or a quota where there was none). Anything \
        wider is refused with exit 4; admins may raise the rate and the quota, and --reset-quota.
        """)

    @OptionGroup var options: RemoteOptions
    @Argument(help: "The key id: the 12 characters after dinf_.") var id: String
    @Option(help: "A new name.") var name: String?
    @Option(name: .customLong("scope"), help: ArgumentHelp("The key's scopes from now on (repeatable): a subset of its current ones.", valueName: "scope"))
    var scopes: [String] = []
    @Option(help: ArgumentHelp("Expire this long from now: 30m, 12h, 30d (no later than it does now).", valueName: "duration"))
    var expires: String?
    @Option(help: ArgumentHelp("The key's own rate limit: 100/1m, 10/1s.", valueName: "rate")) var rateLimit: RateSpec?
    @Option(help: ArgumentHelp("Requests it may make: 1000/day, 500/month, or 50 (in total).", valueName: "quota")) var quota: QuotaSpec?
    @Flag(help: "Start the quota's count again (admins).") var resetQuota = false
    @Flag(help: "Print the API's JSON object.") var json = false

    func validate() throws {
        try KeyIDArgument.check(id)
        if let expires, (DurationText.seconds(expires) ?? 0) <= 0 {
            throw ValidationError("--expires must be a duration such as 30m, 12h or 30d")
        }
        if changes.isEmpty {
            throw ValidationError("say what to change: --name, --scope, --expires, --rate-limit, --quota or --reset-quota")
        }
    }

    var changes: DevInfraAPI.KeyChanges {
        var changes = DevInfraAPI.KeyChanges()
        changes.name = name
        changes.scopes = scopes.isEmpty ? nil : scopes
        changes.expiresIn = expires.flatMap(DurationText.seconds)
        changes.rateLimit = rateLimit
        changes.quota = quota
        changes.resetQuota = resetQuota
        return changes
    }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let key = try await session.api { try await $0.updateKey(id: id, changes) }
            if json { context.stdout(JSONOutput.encode(key)); return }
            let expiry = key.expiresAt.map { "expires \(When.day($0)) (\(When.relative($0)))" } ?? "does not expire"
            context.note(Printable.escaped("updated key \(key.id) \"\(key.name)\": \(key.scopes.map(\.rawValue).joined(separator: " ")), \(expiry), "
                + "rate \(KeyText.rate(key.rateLimit)), quota \(KeyText.quota(key.quota))"))
        }
    }
}
