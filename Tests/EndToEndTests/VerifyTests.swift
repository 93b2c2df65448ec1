import DevInfraCore
import Foundation
import Testing

/// `dev-infra verify`, the real binary against the real server: a key on stdin, its description on
/// stdout, and the exit status a script branches on.
@Suite struct VerifyTests {
    let sandbox = Sandbox()

    @Test func aUsableKeyExits0AndAnythingElseSaysWhyWithItsExitStatus() throws {
        let server = try ServerProcess(folder: sandbox.root + "/server")
        defer { server.stop() }
        let admin = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .newlines)
        #expect(try server.admin(["admin", "team", "add", "web"]).status == 0)
        #expect(try server.admin(["admin", "user", "add", "alice", "--team", "web"], stdin: "pw-alice\n").status == 0)
        let (_, signIn) = try server.request("POST", "/v1/auth/token", body: #"{"username":"alice","password":"pw-alice"}"#)
        let alice = try #require(signIn["access_token"] as? String)
        let (_, created) = try server.request("POST", "/v1/keys", key: alice, body: #"{"name":"ci","scopes":["projects:read"],"team":"web","expires_in":86400}"#)
        let key = try #require(created["api_key"] as? String)
        let env = ["DEV_INFRA_API_URL": server.url]
        // Behind Envoy, /v1/check/... carries another service's path and query: never logged.
        _ = try server.request("GET", "/v1/check/orders?session=hunter2-secret", key: key)
        let log = try String(contentsOfFile: server.logPath, encoding: .utf8)
        #expect(log.contains("/v1/check/…") && !log.contains("hunter2"), "\(log.suffix(600))")

        let ok = try sandbox.devInfra(["verify"], stdin: key + "\n", extra: env)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("Owner:   alice") && ok.stdout.contains("Team:    web") && ok.stdout.contains("Scopes:  projects:read"))
        #expect(ok.stdout.contains("State:   active") && ok.stdout.contains("Expires:") && !ok.stdout.contains(key), "never the key itself")
        let json = try sandbox.devInfra(["verify", "--json", "--scope", "projects:read", "--team", "web"], stdin: key, extra: env)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let keyID = try APIKey.parse(key).keyID
        #expect(json.status == 0 && object?["user"] as? String == "alice" && object?["key_id"] as? String == keyID)
        #expect(try sandbox.devInfra(["verify", "-q"], stdin: key, extra: env).stdout.isEmpty)

        let scoped = try sandbox.devInfra(["verify", "--scope", "projects:write"], stdin: key, extra: env)
        #expect(scoped.status == 4 && scoped.stderr.contains("[insufficient_scope]"), "\(scoped.stderr)")
        let team = try sandbox.devInfra(["verify", "--team", "ops"], stdin: key, extra: env)
        #expect(team.status == 4 && team.stderr.contains("[team_mismatch]"), "\(team.stderr)")

        #expect(try server.request("DELETE", "/v1/keys/\(keyID)", key: admin).0 == 200)
        let revoked = try sandbox.devInfra(["verify"], stdin: key, extra: env)
        #expect(revoked.status == 3 && revoked.stderr.contains("[key_revoked]") && revoked.stdout.isEmpty, "\(revoked.stderr)")
        let unknown = try sandbox.devInfra(["verify"], stdin: APIKey.generate().rawValue, extra: env)
        #expect(unknown.status == 3 && unknown.stderr.contains("[unknown_key]"))
    }

    @Test func aMalformedOrMissingKeyIsRefusedWithoutAskingAnyServer() throws {
        // Port 9 on loopback: nothing listens, so any request would fail as unreachable (exit 6).
        let env = ["DEV_INFRA_API_URL": "http://127.0.0.1:9"]
        var broken = Array(APIKey.generate().rawValue)
        broken[10] = broken[10] == "a" ? "b" : "a"
        let malformed = try sandbox.devInfra(["verify"], stdin: String(broken), extra: env)
        #expect(malformed.status == 3 && malformed.stderr.contains("[malformed_key]"), "\(malformed.stderr)")
        #expect(!malformed.stderr.contains(String(broken)), "the key is not echoed")
        let empty = try sandbox.devInfra(["verify"], stdin: "\n", extra: env)
        #expect(empty.status == 3 && empty.stderr.contains("[missing_credentials]"))
        let two = try sandbox.devInfra(["verify"], stdin: "a\nb\n", extra: env)
        #expect(two.status == 64 && two.stderr.contains("[invalid_argument]"))
        let unreachable = try sandbox.devInfra(["verify"], stdin: APIKey.generate().rawValue, extra: env)
        #expect(unreachable.status == 6, "the good-looking key does go to the server: \(unreachable.stderr)")
    }
}
