import ArgumentParser
import DevInfraClient
import DevInfraCore

/// What `disable` and `enable` switch: exactly one of `--user`, `--integration` and `--team`.
struct KillSwitchOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A user: every key of theirs (admins).", valueName: "name")) var user: String?
    @Option(help: ArgumentHelp("An integration: every key of it (admins and team admins).", valueName: "team/name")) var integration: String?
    @Option(help: ArgumentHelp("A team: every key that acts for it (admins and team admins).", valueName: "team")) var team: String?
    @Option(help: "Why, for the audit log.") var reason: String?

    func validate() throws {
        let given = [user, integration, team].compactMap { $0 }
        guard given.count == 1 else { throw ValidationError("name exactly one of --user, --integration and --team") }
        if let integration { try IntegrationArgument.check(integration, flag: "--integration") }
        if given[0].isEmpty { throw ValidationError("the name is empty") }
    }

    var target: DevInfraAPI.SwitchTarget {
        if let user { return .user(user) }
        if let integration { return .integration(integration) }
        return .team(team ?? "")
    }

    /// `user alice`, `integration web/deploy-bot`, `team web`: for notes.
    var described: String {
        switch target {
        case .user(let name): "user \(name)"
        case .integration(let id): "integration \(id)"
        case .team(let name): "team \(name)"
        }
    }

    /// The flag that names the target again, for the note that says how to undo.
    var flags: String {
        switch target {
        case .user(let name): "--user \(name)"
        case .integration(let id): "--integration \(id)"
        case .team(let name): "--team \(name)"
        }
    }
}
