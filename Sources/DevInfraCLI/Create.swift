import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra create`: a new key, printed once on stdout (`create -q | gh secret set ...`).
struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a key and print it, once.")

    @OptionGroup var options: RemoteOptions
    @Option(help: "The key's name, e.g. what uses it.") var name: String
    @Option(name: .customLong("scope"), help: ArgumentHelp("A scope to grant (repeatable): keys:read, keys:write, projects:read, projects:write, audit:read, keys:introspect, admin.", valueName: "scope"))
    var scopes: [String] = []
    @Option(help: "The team the key acts for.") var team: String?
    @Option(help: ArgumentHelp("The integration that owns the key instead of you (team admins); the key acts for its team.", valueName: "team/name"))
    var integration: String?
    @Option(help: ArgumentHelp("When it stops working: 30m, 12h, 30d, or never.", valueName: "duration")) var expires = "never"
    @Option(help: ArgumentHelp("The key's own rate limit: 100/1m, 10/1s, 5000/1h (default: the server's).", valueName: "rate"))
    var rateLimit: RateSpec?
    @Option(help: ArgumentHelp("Requests it may make at all: 1000/day, 500/month, or 50 (in total).", valueName: "quota"))
    var quota: QuotaSpec?
    @Flag(name: .shortAndLong, help: "Print only the key.") var quiet = false
    @Flag(help: "Print the API's JSON object.") var json = false

    func validate() throws {
        if scopes.isEmpty { throw ValidationError("name at least one --scope; keys get exactly the scopes they are given") }
        if expires != "never" && (DurationText.seconds(expires) ?? 0) <= 0 {
            throw ValidationError("--expires must be a duration such as 30m, 12h or 30d, or never")
        }
        if quiet && json { throw ValidationError("--quiet and --json cannot be combined") }
        if let integration {
            try IntegrationArgument.check(integration, flag: "--integration")
            if let team, team != IntegrationArgument.team(of: integration) {
                throw ValidationError("a key of \(integration) acts for team \(IntegrationArgument.team(of: integration)), not \(team): leave out --team")
            }
        }
    }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let created = try await session.api {
                try await $0.createKey(name: name, scopes: scopes, team: team, expiresIn: DurationText.seconds(expires), integration: integration,
                                       rateLimit: rateLimit, quota: quota)
            }
            KeyPrinter.printCreated(created, quiet: quiet, json: json, context: context)
        }
    }
}

/// How `create` and `rotate` show a new key: the key (or JSON) on stdout, the reminder on stderr.
enum KeyPrinter {
    static func printCreated(_ created: CreatedKey, quiet: Bool, json: Bool, context: CommandContext) {
        if json {
            context.stdout(JSONOutput.encode(created))
        } else {
            context.stdout(created.apiKey + "\n")
        }
        if !quiet && !json {
            let key = created.key
            let scopes = key.scopes.map(\.rawValue).joined(separator: " ")
            var details = scopes + (key.team.map { ", team \($0)" } ?? "")
            if key.ownerKind == .integration { details += ", owned by integration \(key.owner)" }
            if let rate = key.rateLimit { details += ", rate \(KeyText.rate(rate))" }
            if let quota = key.quota { details += ", quota \(quota.limit)/\(quota.period.rawValue)" }
            context.note(Printable.escaped("created key \(key.id) \"\(key.name)\" (\(details))"))
        }
        context.note("this is the only time the key is shown: store it now")
    }
}
