import ArgumentParser
import CredentialStore
import DevInfraClient
import DevInfraCore
import Foundation

/// `dev-infra status`: which profile, which server, which key, which link of the chain gave it,
/// and (unless `--offline`) who the server says the key belongs to.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the profile, server, key, where the key came from, and who it is.",
        discussion: "Exits 3 when no key is found or the server rejects it, 6 when the server cannot be reached."
    )

    @OptionGroup var remote: RemoteOptions

    @Flag(help: "Print a JSON object for scripts.")
    var json = false

    @Flag(help: "Do not ask the server; show only what is stored here.")
    var offline = false

    func run() async throws { try await run(in: .current) }

    /// The `--json` object; field names are a contract for scripts.
    struct Report: Encodable {
        var profile: String
        var apiURL: String
        var apiURLSource: String
        var source: String?
        var storage: String?
        var path: String?
        var mode: String?
        var keyID: String?
        var maskedKey: String?
        var warnings: [String]
        var whoami: Whoami?
        var key: KeyInfo?

        enum CodingKeys: String, CodingKey {
            case profile, source, storage, path, mode, warnings, whoami, key
            case apiURL = "api_url", apiURLSource = "api_url_source", keyID = "key_id", maskedKey = "masked_key"
        }
    }

    func run(in context: CommandContext) async throws {
        // One resolution of the key: a keyring read is a D-Bus round trip.
        let session = try Session(remote, context, requireCredential: false)
        let (profile, store, server) = (session.profile, session.store, session.server)
        var report = Report(profile: profile, apiURL: server.url, apiURLSource: server.origin.rawValue, warnings: [])
        var failure: (any Error)?
        do {
            let resolution = try store.resolve(profile: profile)
            report.warnings = resolution.warnings
            report.source = resolution.source.name
            report.keyID = resolution.key.keyID
            report.maskedKey = resolution.key.masked
            switch resolution.source {
            case .file(let path, let mode):
                report.storage = StorageKind.file.rawValue
                report.path = path
                report.mode = String(mode, radix: 8).leftPadded(to: 4)
            case .keyring: report.storage = StorageKind.keyring.rawValue
            case .environmentFile(let path): report.path = path
            case .environment: report.storage = try store.storage(of: profile)?.rawValue
            }
            if !offline {
                // The key is sent only to the server it was stored for, as every other command does.
                try store.checkDestination(of: resolution, to: server, profile: profile)
                do {
                    (report.whoami, report.key) = try await session.api(key: resolution.key.rawValue) { api in
                        let me = try await api.whoami()
                        let canRead = me.scopes.contains { $0.rawValue == "keys:read" }
                        return (me, canRead ? try? await api.key(id: resolution.key.keyID) : nil)
                    }
                    if When.expiresSoon(report.whoami?.expiresAt) {
                        report.warnings.append("this key expires \(When.relative(report.whoami?.expiresAt)); rotate it with: dev-infra rotate")
                    }
                } catch {
                    failure = error
                }
            }
            output(report, resolution.source, context)
        } catch {
            failure = error
            output(report, nil, context)
        }
        if let failure { throw failure }
    }

    private func output(_ report: Report, _ source: CredentialSource?, _ context: CommandContext) {
        report.warnings.forEach(context.note)
        if json {
            context.stdout(JSONOutput.encode(report))
            return
        }
        var lines = [
            ("Profile", report.profile),
            ("Server", "\(report.apiURL) (from \(serverOrigin(report.apiURLSource)))"),
            ("Key", report.maskedKey ?? "none"),
        ]
        if let source { lines.append(("Source", source.summary)) }
        if let me = report.whoami {
            lines.append(("User", me.user + (me.admin ? " (admin)" : "")))
            if let team = me.team { lines.append(("Team", team)) } else if !me.teams.isEmpty { lines.append(("Teams", me.teams.joined(separator: ", "))) }
            lines.append(("Scopes", me.scopes.map(\.rawValue).joined(separator: " ")))
            lines.append(("Expires", me.expiresAt.map { "\(When.day($0)) (\(When.relative($0)))" } ?? "never"))
            if let key = report.key {
                lines.append(("Owner", KeyText.owner(key) + (key.createdBy.map { ", created by \($0)" } ?? "")))
                lines.append(("State", key.state.rawValue + (key.lastUsedAt.map { ", last used \(When.relative($0))" } ?? "")))
                lines.append(("Rate", KeyText.rate(key.rateLimit)))
                lines.append(("Quota", KeyText.quota(key.quota)))
            }
        }
        if case .environment = source, let storage = report.storage {
            lines.append(("Stored", "\(storage) (not used while \(CredentialStore.keyVariable) is set)"))
        } else if let storage = report.storage {
            lines.append(("Storage", storage))
        }
        context.stdout(lines.map { "\($0.0 + ":")".leftAligned(to: 10) + Printable.escaped($0.1) }.joined(separator: "\n") + "\n")
    }

    private func serverOrigin(_ origin: String) -> String {
        switch origin {
        case "env": CredentialStore.urlVariable
        case "config": "config.yml"
        default: "the built-in default"
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        String(repeating: pad, count: max(0, width - count)) + self
    }

    func leftAligned(to width: Int) -> String {
        self + String(repeating: " ", count: max(1, width - count))
    }
}
