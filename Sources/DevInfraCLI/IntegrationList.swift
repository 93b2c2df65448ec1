import ArgumentParser
import DevInfraClient
import DevInfraCore
import Foundation

/// `dev-infra integration list`: the integrations of the caller's teams (admins: every team's).
struct IntegrationList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List integrations: your teams' (admins: all).")

    @OptionGroup var options: RemoteOptions
    @Option(help: "Only this team's.") var team: String?
    @Flag(help: "Print the API's JSON objects.") var json = false

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let integrations = try await session.api { try await $0.listIntegrations(team: team) }
            if json {
                context.stdout(JSONOutput.encode(integrations))
            } else if integrations.isEmpty {
                context.note("no integrations")
            } else {
                context.stdout(Self.table(integrations))
            }
        }
    }

    static let columns: [(title: String, width: Int)] = [("ID", 24), ("SCOPES", 18), ("RATE", 10), ("CREATED BY", 12), ("STATE", 8)]

    /// 72 characters of columns and 4 spaces: under 80.
    static func table(_ integrations: [IntegrationInfo]) -> String {
        let rows = integrations.map { integration in
            [integration.id, List.compact(integration.scopes.map(\.rawValue)), integration.rateLimit.map { KeyText.rate($0) } ?? "default",
             integration.createdBy ?? "-", integration.disabledAt == nil ? "active" : "disabled"]
        }
        return ([columns.map(\.title)] + rows).map { row in
            zip(row, columns).map { List.fit(Printable.escaped($0), $1.width) }.joined(separator: " ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }
}
