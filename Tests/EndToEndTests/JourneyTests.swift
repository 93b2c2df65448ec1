import DevInfraCore
import Foundation
import Testing

/// One test per user journey of DESIGN.md: the real server binary on a temp SQLite database, the
/// real `dev-infra` binary as a subprocess.
@Suite struct JourneyTests {
    let sandbox = Sandbox()

    /// bootstrap, a user, and a server; returns the admin key.
    func startServer() throws -> (ServerProcess, String) {
        let server = try ServerProcess(folder: sandbox.root + "/server")
        let admin = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .newlines)
        #expect(try server.admin(["admin", "team", "add", "web"]).status == 0)
        #expect(try server.admin(["admin", "user", "add", "alice", "--team", "web"], stdin: "alice-password\n").status == 0)
        return (server, admin)
    }

    /// `dev-infra ARGS` on a pseudo-terminal (util-linux `script`), with `input` typed into it.
    func onTerminal(_ arguments: [String], input: String) throws -> RunResult {
        let command = ([Run.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try Run.process("/usr/bin/script", ["-qec", command, "/dev/null"], environment: sandbox.environment, stdin: input)
    }

    @Test func developer() throws {
        let (server, _) = try startServer()
        defer { server.stop() }
        let login = try onTerminal(["login", "--api-url", server.url, "--storage", "file"], input: "alice\nalice-password\n")
        #expect(login.status == 0, "\(login.stdout)")
        #expect(login.stdout.contains("created key"))
        let first = try APIKey.parse(try #require(sandbox.read(sandbox.credentialsFile)?.split(separator: " ").last.map(String.init)))

        let status = try sandbox.devInfra(["status"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("User:     alice"))
        #expect(status.stdout.contains("keys:read keys:write projects:read projects:write"))

        let created = try sandbox.devInfra(["create", "--name", "deploy", "--scope", "projects:read", "--team", "web", "--expires", "30d"])
        #expect(created.status == 0)
        let deployKey = try APIKey.parse(created.stdout)
        #expect(created.stderr.contains("only time the key is shown"))

        let project = try sandbox.devInfra(["api", "-X", "POST", "/v1/teams/web/projects", "-f", "name=site"])
        #expect(project.status == 0 && project.stdout.contains("\"name\":\"site\""), "\(project.stderr)")
        #expect(try sandbox.devInfra(["api", "/v1/teams/web/projects"]).stdout.contains("\"site\""))
        let forbidden = try sandbox.devInfra(["api", "/v1/audit"])
        #expect(forbidden.status == 4 && forbidden.stderr.contains("[admin_required]") && forbidden.stdout.contains("admin_required"))

        let list = try sandbox.devInfra(["list"])
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ID") == true)
        #expect(lines.allSatisfy { $0.count <= 80 }, "the table fits 80 columns")
        #expect(list.stdout.contains(deployKey.keyID) && list.stdout.contains(first.keyID))

        let rotate = try sandbox.devInfra(["rotate", "--grace", "2s"])
        #expect(rotate.status == 0, "\(rotate.stderr)")
        #expect(rotate.stdout.isEmpty, "a stored key is not printed")
        let second = try APIKey.parse(try sandbox.devInfra(["token"]).stdout)
        #expect(second != first)
        #expect(try sandbox.devInfra(["status"]).status == 0)
        let old = try sandbox.devInfra(["api", "/v1/whoami"], extra: ["DEV_INFRA_API_KEY": first.rawValue])
        #expect(old.status == 0, "the old key works during the grace period")
        try server.advanceClock(3)
        let expired = try sandbox.devInfra(["api", "/v1/whoami"], extra: ["DEV_INFRA_API_KEY": first.rawValue])
        #expect(expired.status == 3 && expired.stderr.contains("[key_expired]"))

        let refused = try sandbox.devInfra(["revoke", deployKey.keyID])
        #expect(refused.status == 64 && refused.stderr.contains("--yes"))
        let declined = try onTerminal(["revoke", deployKey.keyID], input: "n\n")
        #expect(declined.status == 0 && declined.stdout.contains("Revoke key \(deployKey.keyID)?"), "\(declined.stdout)")
        #expect(declined.stdout.contains("not revoked"))
        #expect(try sandbox.devInfra(["show", deployKey.keyID]).stdout.contains("State:        active"))
        let confirmed = try onTerminal(["revoke", deployKey.keyID, "--reason", "done"], input: "y\n")
        #expect(confirmed.status == 0 && confirmed.stdout.contains("revoked key \(deployKey.keyID)"), "\(confirmed.stdout)")
        #expect(try sandbox.devInfra(["show", deployKey.keyID]).stdout.contains("State:        revoked"))

        let logout = try sandbox.devInfra(["logout", "--revoke"])
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(try sandbox.devInfra(["token"]).status == 3)
        let gone = try sandbox.devInfra(["api", "/v1/whoami"], extra: ["DEV_INFRA_API_KEY": second.rawValue])
        #expect(gone.status == 3 && gone.stderr.contains("[key_revoked]"))
    }

    /// More keys than one page holds (200): `list` follows the cursor and shows each key once.
    @Test func listFollowsEveryPage() throws {
        let server = try ServerProcess(folder: sandbox.root + "/server", arguments: ["--rate-limit", "100000"])
        defer { server.stop() }
        let admin = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .newlines)
        for index in 1...230 {
            let (status, _) = try server.request("POST", "/v1/keys", key: admin, body: #"{"name":"k\#(index)","scopes":["keys:read"]}"#)
            try #require(status == 201, "creating key \(index) answered \(status)")
        }
        let environment = ["DEV_INFRA_API_KEY": admin, "DEV_INFRA_API_URL": server.url]
        let json = try sandbox.devInfra(["list", "--json"], extra: environment)
        #expect(json.status == 0, "\(json.stderr)")
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let ids = keys.compactMap { $0["id"] as? String }
        #expect(ids.count == 231 && Set(ids).count == 231, "\(ids.count) keys, \(Set(ids).count) distinct")
        #expect(Set(keys.compactMap { $0["name"] as? String }).isSuperset(of: (1...230).map { "k\($0)" }))
        let table = try sandbox.devInfra(["list"], extra: environment)
        #expect(table.stdout.split(separator: "\n").count == 232, "a header and 231 rows")
    }

    @Test func ciJob() throws {
        let (server, admin) = try startServer()
        defer { server.stop() }
        let key = try APIKey.parse(try sandbox.devInfra(["create", "-q", "--name", "ci", "--scope", "keys:read"],
                                                        extra: ["DEV_INFRA_API_KEY": admin, "DEV_INFRA_API_URL": server.url]).stdout)
        // Only the two variables, a read-only HOME, no session bus, no XDG_CONFIG_HOME.
        let home = sandbox.root + "/ci-home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o555])
        let ci = ["HOME": home, "PATH": "/usr/bin:/bin", "DEV_INFRA_API_KEY": key.rawValue, "DEV_INFRA_API_URL": server.url]
        func run(_ arguments: [String]) throws -> RunResult { try Run.process(Run.binary, arguments, environment: ci) }
        let status = try run(["status"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("environment variable DEV_INFRA_API_KEY"))
        #expect(try run(["list"]).stdout.contains(key.keyID))
        #expect(try run(["api", "/v1/whoami"]).stdout.contains("\"key_id\":\"\(key.keyID)\""))
        #expect(try FileManager.default.contentsOfDirectory(atPath: home).isEmpty, "nothing was written")
        _ = try Run.process(Run.binary, ["revoke", "--yes", key.keyID], environment: ["PATH": "/usr/bin:/bin", "DEV_INFRA_API_KEY": admin, "DEV_INFRA_API_URL": server.url, "HOME": home])
        let revoked = try run(["status"])
        #expect(revoked.status == 3)
        #expect(revoked.stderr.contains("[key_revoked]"))
    }

    @Test func shellScript() throws {
        let (server, admin) = try startServer()
        defer { server.stop() }
        let env = ["DEV_INFRA_API_KEY": admin, "DEV_INFRA_API_URL": server.url]
        #expect(try sandbox.devInfra(["token"], extra: env).stdout == admin + "\n")
        let piped = try Run.process("/bin/sh", ["-c", "'\(Run.binary)' create -q --name piped --scope keys:read | wc -c"],
                                    environment: sandbox.environment.merging(env) { $1 })
        #expect(piped.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "57", "the key and a newline, nothing else")
        let json = try Run.process("/bin/sh", ["-c", "'\(Run.binary)' list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'"],
                                   environment: sandbox.environment.merging(env) { $1 })
        #expect(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        let failing = try sandbox.devInfra(["show", "AAAAAAAAAAAA", "--json"], extra: env)
        #expect(failing.status == 5)
        let object = try JSONSerialization.jsonObject(with: Data(failing.stdout.utf8)) as? [String: [String: Any]]
        #expect(object?["error"]?["code"] as? String == "not_found")
    }

    @Test func serverNotRunning() throws {
        let key = APIKey.generate()
        let result = try sandbox.devInfra(["status"], extra: ["DEV_INFRA_API_KEY": key.rawValue, "DEV_INFRA_API_URL": "http://127.0.0.1:9"])
        #expect(result.status == 6)
        #expect(result.stderr.contains("cannot reach the server at http://127.0.0.1:9"))
        #expect(result.stderr.contains("[server_unreachable]"))
        #expect(result.seconds < 10)
        let login = try sandbox.devInfra(["login", "--with-token", "--api-url", "http://127.0.0.1:9"], stdin: key.rawValue)
        #expect(login.status == 6)
        #expect(sandbox.read(sandbox.credentialsFile) == nil, "an unverified key is not stored")
    }

    @Test func aRejectedKeyIsNotStored() throws {
        let (server, _) = try startServer()
        defer { server.stop() }
        let login = try sandbox.devInfra(["login", "--with-token", "--api-url", server.url], stdin: APIKey.generate().rawValue)
        #expect(login.status == 3)
        #expect(login.stderr.contains("[unknown_key]"))
        #expect(sandbox.read(sandbox.credentialsFile) == nil)
    }

    @Test func aDroppedConnectionAfterACreateIsRetriedIntoTheSameKey() throws {
        let (server, admin) = try startServer()
        defer { server.stop() }
        let proxy = try LoopbackScript("drop_proxy.py", arguments: [String(server.port)])
        defer { proxy.stop() }
        let proxyURL = proxy.url
        let created = try sandbox.devInfra(["create", "-q", "--name", "flaky", "--scope", "keys:read", "--verbose"],
                                           extra: ["DEV_INFRA_API_KEY": admin, "DEV_INFRA_API_URL": proxyURL])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.components(separatedBy: "> POST").count - 1 == 2, "one retry")
        #expect(!created.stderr.contains(admin), "--verbose masks the credential")
        #expect(created.stderr.contains("Bearer dinf_\(try APIKey.parse(admin).keyID)_…"))
        #expect(created.stderr.lowercased().contains("idempotency-key: …"), "--verbose hides the Idempotency-Key")
        let key = try APIKey.parse(created.stdout)
        let list = try sandbox.devInfra(["list", "--json"], extra: ["DEV_INFRA_API_KEY": admin, "DEV_INFRA_API_URL": server.url])
        let keys = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(keys.filter { $0["name"] as? String == "flaky" }.count == 1, "exactly one key was minted")
        #expect(keys.contains { $0["id"] as? String == key.keyID })
    }

    @Test func rotateWithAReadOnlyConfigFolderPrintsTheNewKey() throws {
        let (server, admin) = try startServer()
        defer { server.stop() }
        let created = try sandbox.devInfra(["create", "-q", "--name", "mine", "--scope", "keys:read", "--scope", "keys:write"],
                                           extra: ["DEV_INFRA_API_KEY": admin, "DEV_INFRA_API_URL": server.url])
        #expect(created.status == 0, "\(created.stderr)")
        let key = created.stdout
        #expect(try sandbox.devInfra(["login", "--with-token", "--storage", "file", "--api-url", server.url], stdin: key).status == 0)
        let rotate = try Unprivileged.run(sandbox, ["rotate"], readOnly: sandbox.configFolder)
        #expect(rotate.status == 8, "\(rotate.stderr)")
        if rotate.stdout.isEmpty { Issue.record("rotate printed no key: \(rotate.stderr)") }
        let printed = try APIKey.parse(rotate.stdout)
        #expect(rotate.stderr.contains("could not be stored"))
        let works = try sandbox.devInfra(["api", "/v1/whoami"], extra: ["DEV_INFRA_API_KEY": printed.rawValue])
        #expect(works.status == 0, "the printed key is the new, working key")
        let old = try sandbox.devInfra(["api", "/v1/whoami"], extra: ["DEV_INFRA_API_KEY": key.trimmingCharacters(in: .newlines)])
        #expect(old.status == 0, "the old key keeps working through the grace period")
    }
}

/// Runs `dev-infra` so that a read-only folder really is read-only: as an unprivileged user when
/// the tests run as root (CI), since root writes through any mode bits.
enum Unprivileged {
    static func run(_ sandbox: Sandbox, _ arguments: [String], readOnly folder: String) throws -> RunResult {
        _ = try Run.process("/bin/chmod", ["0555", folder], environment: [:])
        defer { _ = try? Run.process("/bin/chmod", ["0700", folder], environment: [:]) }
        guard geteuid() == 0 else { return try sandbox.devInfra(arguments) }
        _ = try Run.process("/bin/chown", ["-R", "65534:65534", sandbox.root], environment: [:])
        _ = try Run.process("/bin/chmod", ["0755", sandbox.root], environment: [:])
        defer { _ = try? Run.process("/bin/chown", ["-R", "0:0", sandbox.root], environment: [:]) }
        return try Run.process("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Run.binary] + arguments,
                               environment: sandbox.environment)
    }
}
