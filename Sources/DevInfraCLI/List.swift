import ArgumentParser
import DevInfraClient
import DevInfraCore
import Foundation

/// `dev-infra list`: a table that fits 80 columns, every page followed to the end.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List keys: yours, or (admins) all or a team's.")

    @OptionGroup var options: RemoteOptions
    @Flag(help: "Every key (admins).") var all = false
    @Option(help: "The keys of one team (admins).") var team: String?
    @Flag(help: "Add who owns each key (person or integration), who created it, its rate limit and its quota; wider than 80 columns.")
    var wide = false
    @Flag(help: "Print the API's JSON objects.") var json = false

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        try await JSONOutput.reportingErrors(json, context) {
            let session = try Session(options, context)
            let keys = try await session.api { try await $0.listKeys(all: all, team: team) }
            for key in keys where key.state == .active && When.expiresSoon(key.expiresAt) {
                context.note("warning: key \(key.id) \"\(key.name)\" expires \(When.relative(key.expiresAt))")
            }
            if json {
                context.stdout(JSONOutput.encode(keys))
            } else if keys.isEmpty {
                context.note("no keys")
            } else {
                context.stdout(Self.table(keys, now: Date(), wide: wide))
            }
        }
    }

    /// OWNER is wide enough for `web/deploy-bot`: an integration's keys are told apart from a
    /// person's by the `/` in the owner (user names cannot hold one). `show` has the creation date.
    static let columns: [(title: String, width: Int)] = [
        ("ID", 12), ("NAME", 9), ("OWNER", 14), ("SCOPES", 9), ("TEAM", 6), ("USED", 7), ("EXPIRES", 8), ("STATE", 8),
    ]

    /// `--wide` adds these after the others.
    static let wideColumns: [(title: String, width: Int)] = [("KIND", 11), ("CREATED BY", 16), ("RATE", 12), ("QUOTA", 20)]

    /// 73 characters of columns and 7 spaces: 80.
    static func table(_ keys: [KeyInfo], now: Date, wide: Bool = false) -> String {
        let rows = keys.map { key in
            var row = [key.id, key.name, key.owner, compact(key.scopes.map(\.rawValue)), key.team ?? "-",
                       key.lastUsedAt.map { When.relative($0, now: now) } ?? "never", When.relative(key.expiresAt, now: now), key.state.rawValue]
            if wide {
                row += [(key.ownerKind ?? .person).rawValue, key.createdBy ?? "-", key.rateLimit.map { KeyText.rate($0) } ?? "default",
                        key.quota.map { "\($0.used) of \($0.limit)/\($0.period.rawValue)" } ?? "-"]
            }
            return row
        }
        let layout = columns + (wide ? wideColumns : [])
        return ([layout.map(\.title)] + rows).map { row in
            zip(row, layout).map { fit(Printable.escaped($0), $1.width) }.joined(separator: " ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }

    /// `keys:rw,projects:r` reads shorter than the scopes in full.
    static func compact(_ scopes: [String]) -> String {
        var byResource: [(String, String)] = []
        for scope in scopes.sorted() {
            let parts = scope.split(separator: ":")
            let resource = parts.first.map(String.init) ?? scope
            let access = parts.count > 1 ? String(parts[1].prefix(1)) : ""
            if let index = byResource.firstIndex(where: { $0.0 == resource }) { byResource[index].1 += access } else { byResource.append((resource, access)) }
        }
        return byResource.map { $0.1.isEmpty ? $0.0 : "\($0.0):\($0.1)" }.joined(separator: ",")
    }

    static func fit(_ text: String, _ width: Int) -> String {
        text.count <= width ? text + String(repeating: " ", count: width - text.count) : String(text.prefix(width - 1)) + "…"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
