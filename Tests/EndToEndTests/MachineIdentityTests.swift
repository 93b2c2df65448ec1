import DevInfraCore
import Foundation
import Testing

/// Integrations, kill switches, narrowing in place and quotas, through the real binaries: a server
/// on a temp database, and `dev-infra` as bob, an admin of team web who is not a server admin.
@Suite struct MachineIdentityTests {
    let sandbox = Sandbox()

    /// The server, the bootstrap admin's key, and bob's key (keys:read keys:write projects:read).
    func start() throws -> (server: ServerProcess, admin: String, bob: String) {
        let server = try ServerProcess(folder: sandbox.root + "/server")
        let admin = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .newlines)
        #expect(try server.admin(["admin", "team", "add", "web"]).status == 0)
        let added = try server.admin(["admin", "user", "add", "bob", "--team", "web", "--team-admin", "web"], stdin: "bob-password\n")
        try #require(added.status == 0, "\(added.stderr)")
        let (_, signIn) = try server.request("POST", "/v1/auth/token", body: #"{"username":"bob","password":"bob-password"}"#)
        let jwt = try #require(signIn["access_token"] as? String)
        let (status, created) = try server.request("POST", "/v1/keys", key: jwt,
                                                   body: #"{"name":"bob's laptop","scopes":["keys:read","keys:write","projects:read"]}"#)
        try #require(status == 201, "bob's key: \(created)")
        return (server, admin, try #require(created["api_key"] as? String))
    }

    /// `dev-infra` with `key` against `server`.
    func run(_ arguments: [String], as key: String, on server: ServerProcess, stdin: String? = nil) throws -> RunResult {
        try sandbox.devInfra(arguments, stdin: stdin, extra: ["DEV_INFRA_API_KEY": key, "DEV_INFRA_API_URL": server.url])
    }

    /// Bob creates web/deploy-bot and mints a key of it; the key and its id.
    func deployBotKey(_ server: ServerProcess, bob: String, extra: [String] = []) throws -> APIKey {
        let integration = try run(["integration", "create", "web/deploy-bot", "--scope", "projects:read", "--scope", "keys:read"], as: bob, on: server)
        try #require(integration.status == 0, "\(integration.stderr)")
        let created = try run(["create", "-q", "--name", "ci", "--integration", "web/deploy-bot", "--scope", "projects:read", "--scope", "keys:read"] + extra,
                              as: bob, on: server)
        try #require(created.status == 0, "\(created.stderr)")
        return try APIKey.parse(created.stdout)
    }

    func json(_ result: RunResult) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    @Test func aKeyOfAnIntegrationBelongsToItAndSaysWhoMintedIt() throws {
        let (server, admin, bob) = try start()
        defer { server.stop() }
        let key = try deployBotKey(server, bob: bob, extra: ["--rate-limit", "100/1m"])

        let shown = try json(try run(["integration", "show", "web/deploy-bot", "--json"], as: bob, on: server)) as? [String: Any]
        #expect(shown?["id"] as? String == "web/deploy-bot" && shown?["team"] as? String == "web" && shown?["created_by"] as? String == "bob")
        #expect(try run(["integration", "list"], as: bob, on: server).stdout.contains("web/deploy-bot"))

        let works = try run(["api", "/v1/whoami"], as: key.rawValue, on: server)
        #expect(works.status == 0 && works.stdout.contains("\"key_id\":\"\(key.keyID)\""), "\(works.stderr)")
        let verified = try sandbox.devInfra(["verify"], stdin: key.rawValue, extra: ["DEV_INFRA_API_URL": server.url])
        #expect(verified.status == 0 && verified.stdout.contains("web/deploy-bot") && verified.stdout.contains("Team:    web"), "\(verified.stdout)")

        let show = try run(["show", key.keyID], as: bob, on: server)
        #expect(show.status == 0, "\(show.stderr)")
        for line in ["Owner:        web/deploy-bot (integration)", "Created by:   bob", "Team:         web", "Rate limit:   100/1m", "Quota:        none"] {
            #expect(show.stdout.contains(line), "show says \(line): \(show.stdout)")
        }

        let list = try run(["list", "--all", "--json"], as: admin, on: server)
        let keys = try #require(try json(list) as? [[String: Any]], "\(list.stderr)")
        let listed = try #require(keys.first { $0["id"] as? String == key.keyID })
        #expect(listed["owner"] as? String == "web/deploy-bot" && listed["owner_kind"] as? String == "integration")
        #expect(listed["created_by"] as? String == "bob" && listed["team"] as? String == "web")
        #expect((listed["rate_limit"] as? [String: Any])?["window_seconds"] as? Int == 60)
        let bobs = try #require(keys.first { $0["owner"] as? String == "bob" })
        #expect(bobs["owner_kind"] as? String == "person")

        let table = try run(["list", "--all"], as: admin, on: server)
        #expect(table.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, "the table fits 80 columns")
        #expect(table.stdout.contains("web/deploy-bot"))
        let wide = try run(["list", "--all", "--wide"], as: admin, on: server)
        let row = try #require(wide.stdout.split(separator: "\n").first { $0.hasPrefix(key.keyID) })
        #expect(row.contains("integration") && row.contains("bob") && row.contains("100/1m"), "\(row)")

        let status = try run(["status"], as: key.rawValue, on: server)
        #expect(status.status == 0 && status.stdout.contains("web/deploy-bot (integration), created by bob"), "\(status.stdout)")
    }

    @Test func disablingAnIntegrationOrItsTeamStopsItsKeysUntilEnabled() throws {
        let (server, admin, bob) = try start()
        defer { server.stop() }
        let key = try deployBotKey(server, bob: bob)
        func whoami() throws -> RunResult { try run(["api", "/v1/whoami"], as: key.rawValue, on: server) }

        let disabled = try run(["disable", "--integration", "web/deploy-bot", "--reason", "leaked in a log"], as: bob, on: server)
        #expect(disabled.status == 0, "\(disabled.stderr)")
        let refused = try whoami()
        #expect(refused.status == 3 && refused.stderr.contains("[key_disabled]"), "\(refused.stderr)")
        #expect(try run(["show", key.keyID], as: bob, on: server).stdout.contains("State:        disabled"))
        let shown = try json(try run(["integration", "show", "web/deploy-bot", "--json"], as: bob, on: server)) as? [String: Any]
        #expect(shown?["disabled_at"] as? String != nil)
        #expect(try run(["enable", "--integration", "web/deploy-bot"], as: bob, on: server).status == 0)
        #expect(try whoami().status == 0, "enabled again: the same key works")

        let team = try run(["disable", "--team", "web", "--json"], as: admin, on: server)
        let switched = try json(team) as? [String: Any]
        #expect(team.status == 0 && switched?["disabled"] as? Bool == true && switched?["team"] as? String == "web", "\(team.stderr)")
        let teamRefused = try whoami()
        #expect(teamRefused.status == 3 && teamRefused.stderr.contains("[key_disabled]"), "\(teamRefused.stderr)")
        #expect(try run(["enable", "--team", "web"], as: admin, on: server).status == 0)
        #expect(try whoami().status == 0)

        #expect(try run(["disable"], as: admin, on: server).status == 64, "a target is needed")
        #expect(try run(["disable", "--user", "bob", "--team", "web"], as: admin, on: server).status == 64, "only one target")
        #expect(try run(["disable", "--integration", "deploy-bot"], as: admin, on: server).status == 64, "TEAM/NAME")
    }

    @Test func updateNarrowsAKeyInPlaceAndNeverWidensIt() throws {
        let (server, _, bob) = try start()
        defer { server.stop() }
        let key = try deployBotKey(server, bob: bob)

        let narrowed = try run(["update", key.keyID, "--scope", "projects:read", "--json"], as: bob, on: server)
        #expect(narrowed.status == 0, "\(narrowed.stderr)")
        let narrowedKey = try json(narrowed) as? [String: Any]
        #expect(narrowedKey?["scopes"] as? [String] == ["projects:read"])
        let checked = try sandbox.devInfra(["verify", "--scope", "keys:read"], stdin: key.rawValue, extra: ["DEV_INFRA_API_URL": server.url])
        #expect(checked.status == 4 && checked.stderr.contains("[insufficient_scope]"), "the key lost keys:read: \(checked.stderr)")

        let widened = try run(["update", key.keyID, "--scope", "projects:read", "--scope", "keys:read"], as: bob, on: server)
        #expect(widened.status == 4 && widened.stderr.contains("[insufficient_scope]"), "\(widened.stderr)")
        let renamed = try run(["update", key.keyID, "--name", "ci-main", "--rate-limit", "10/1s", "--expires", "1d"], as: bob, on: server)
        #expect(renamed.status == 0, "\(renamed.stderr)")
        let show = try run(["show", key.keyID], as: bob, on: server).stdout
        #expect(show.contains("Name:         ci-main") && show.contains("Rate limit:   10/1s") && !show.contains("Expires:      never"), "\(show)")

        #expect(try run(["update", key.keyID], as: bob, on: server).status == 64, "nothing to change")
        #expect(try run(["update", key.keyID, "--rate-limit", "10/1d"], as: bob, on: server).status == 64, "a day is 24h")
    }

    @Test func aSpentQuotaRefusesWithExit7() throws {
        let (server, _, bob) = try start()
        defer { server.stop() }
        let key = try deployBotKey(server, bob: bob, extra: ["--quota", "3/total"])
        for use in 1...3 {
            let result = try run(["api", "/v1/whoami"], as: key.rawValue, on: server)
            #expect(result.status == 0, "use \(use): \(result.stderr)")
        }
        let spent = try run(["api", "/v1/whoami"], as: key.rawValue, on: server)
        #expect(spent.status == 7 && spent.stderr.contains("[quota_exceeded]"), "\(spent.stderr)")
        let show = try run(["show", key.keyID], as: bob, on: server)
        #expect(show.stdout.contains("of 3/total used"), "\(show.stdout)")
        #expect(try run(["create", "--name", "x", "--scope", "projects:read", "--quota", "3/week"], as: bob, on: server).status == 64)
    }

    @Test func deletingAnIntegrationRevokesItsKeys() throws {
        let (server, admin, bob) = try start()
        defer { server.stop() }
        let key = try deployBotKey(server, bob: bob)

        let unconfirmed = try run(["integration", "delete", "web/deploy-bot"], as: bob, on: server)
        #expect(unconfirmed.status == 64 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
        #expect(try run(["api", "/v1/whoami"], as: key.rawValue, on: server).status == 0, "nothing was deleted")

        let deleted = try run(["integration", "delete", "web/deploy-bot", "--yes"], as: bob, on: server)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let revoked = try run(["api", "/v1/whoami"], as: key.rawValue, on: server)
        #expect(revoked.status == 3 && revoked.stderr.contains("[key_revoked]"), "\(revoked.stderr)")
        #expect(try run(["integration", "show", "web/deploy-bot"], as: bob, on: server).status == 5)
        let show = try run(["show", key.keyID], as: admin, on: server).stdout
        #expect(show.contains("State:        revoked") && show.contains("integration deleted"), "\(show)")
    }

    /// No server is needed to see that the token must come from somewhere: port 9 answers nothing.
    @Test func oidcLoginWithoutATokenSaysWhatToSet() throws {
        let env = ["DEV_INFRA_API_URL": "http://127.0.0.1:9"]
        let none = try sandbox.devInfra(["login", "--oidc"], extra: env)
        #expect(none.status == 64 && none.stderr.contains("DEV_INFRA_OIDC_TOKEN") && none.stderr.contains("[invalid_argument]"), "\(none.stderr)")
        let missingFile = try sandbox.devInfra(["exec", "--oidc", "--oidc-token-file", sandbox.root + "/nope", "--", "/bin/true"], extra: env)
        #expect(missingFile.status == 64 && missingFile.stderr.contains("cannot read the OIDC token file"), "\(missingFile.stderr)")
        #expect(try sandbox.devInfra(["login", "--print-env"], extra: env).status == 64, "--print-env goes with --oidc")
        #expect(try sandbox.devInfra(["login", "--oidc", "--with-token"], extra: env).status == 64)
        let notAJWT = try sandbox.devInfra(["login", "--oidc", "--print-env"], extra: env.merging(["DEV_INFRA_OIDC_TOKEN": "hello"]) { $1 })
        #expect(notAJWT.status == 64 && notAJWT.stdout.isEmpty, "\(notAJWT.stderr)")
        let unreachable = try sandbox.devInfra(["login", "--oidc", "--print-env"], extra: env.merging(["DEV_INFRA_OIDC_TOKEN": "a.b.c"]) { $1 })
        #expect(unreachable.status == 6 && unreachable.stdout.isEmpty, "a token that looks right goes to the server: \(unreachable.stderr)")
        #expect(sandbox.read(sandbox.credentialsFile) == nil, "nothing was stored")
    }
}
