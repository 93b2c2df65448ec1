import ArgumentParser
import DevInfraClient
import DevInfraCore
import Foundation

/// `dev-infra integration ...`: non-human identities of a team (a deploy bot, a CI pipeline) that
/// own keys, so the keys outlive the person who minted them.
struct IntegrationGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "integration",
        abstract: "Manage integrations: a team's bots and pipelines, which own keys instead of a person.",
        discussion: """
        An integration is named TEAM/NAME (web/deploy-bot). Its scopes are an allowlist: its keys \
        (dev-infra create --integration TEAM/NAME) hold a subset of them, act for its team, and keep \
        working when the person who minted them leaves. Admins and the team's admins manage them.
        """,
        subcommands: [IntegrationCreate.self, IntegrationList.self, IntegrationShow.self, IntegrationDelete.self]
    )
}

/// How the integration commands show one.
enum IntegrationText {
    static func lines(_ integration: IntegrationInfo) -> String {
        let lines = [("ID", integration.id), ("Team", integration.team), ("Scopes", integration.scopes.map(\.rawValue).joined(separator: " ")),
                     ("Rate limit", integration.rateLimit.map { KeyText.rate($0) + ", shared by its keys" } ?? "the server's default"),
                     ("Created", When.day(integration.createdAt) + (integration.createdBy.map { " by \($0)" } ?? "")),
                     ("State", integration.disabledAt.map { "disabled since \(When.day($0)) (dev-infra enable --integration \(integration.id))" } ?? "active")]
        return lines.map { ($0.0 + ":").leftAligned(to: 12) + Printable.escaped($0.1) }.joined(separator: "\n") + "\n"
    }
}
