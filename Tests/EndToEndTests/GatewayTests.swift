import DevInfraCore
import Foundation
import Testing

/// nginx from Debian in front of a small service, configured by `examples/nginx/dev-infra.conf`
/// exactly as users copy it: the real gateway, the real server binary, real keys.
@Suite(.enabled(if: Nginx.installed, "needs nginx (scripts/install-test-deps.sh installs it)"))
struct GatewayTests {
    let sandbox = Sandbox()

    @Test func nginxLetsThroughGoodKeysOnlyAndPassesDevInfrasAnswersOn() throws {
        let port = try FreePort.pick()
        var server = try ServerProcess(folder: sandbox.root + "/server", arguments: ["--port", String(port)])
        defer { server.stop() }
        for command in [["admin", "team", "add", "qa"], ["admin", "team", "add", "web"]] { #expect(try server.admin(command).status == 0) }
        #expect(try server.admin(["admin", "user", "add", "alice", "--team", "qa"], stdin: "alice-password\n").status == 0)
        let adminKey = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let (_, signIn) = try server.request("POST", "/v1/auth/token", body: #"{"username":"alice","password":"alice-password"}"#)
        let alice = try #require(signIn["access_token"] as? String)
        func key(_ by: String, _ body: String) throws -> String {
            let (status, created) = try server.request("POST", "/v1/keys", key: by, body: body)
            #expect(status == 201, "\(created)")
            return try #require(created["api_key"] as? String)
        }
        let good = try key(alice, #"{"name":"tasks","scopes":["projects:read"],"team":"qa"}"#)
        let unscoped = try key(alice, #"{"name":"reader","scopes":["keys:read"],"team":"qa"}"#)
        let otherTeam = try key(adminKey, #"{"name":"web","scopes":["projects:read"],"team":"web"}"#)

        let upstream = try LoopbackScript("echo_upstream.py")
        defer { upstream.stop() }
        let nginx = try Nginx(folder: sandbox.root + "/nginx", ports: ["127.0.0.1:8080": port, "127.0.0.1:9000": Int(upstream.url.split(separator: ":").last!)!])
        defer { nginx.stop() }
        func served() -> Int { HTTPReply.send(upstream.url + "/_count").json["served"] as? Int ?? -1 }

        // A good key reaches the service, named by the check and only by it.
        let ok = HTTPReply.send(nginx.url + "/tasks", headers: ["Authorization": "Bearer \(good)", "X-Dev-Infra-User": "mallory"])
        #expect(ok.status == 200, "\(ok.body)\n\(nginx.errorLog)")
        let seen = ok.json["headers"] as? [String: [String]] ?? [:]
        #expect(seen["x-dev-infra-user"] == ["alice"], "a client-sent X-Dev-Infra-User never reaches the service: \(seen)")
        #expect(seen["x-dev-infra-key-id"] == [try APIKey.parse(good).keyID] && seen["x-dev-infra-team"] == ["qa"])
        #expect(seen["x-dev-infra-scopes"] == ["projects:read"])
        #expect(seen["authorization"] == nil, "the service never sees the key")
        let viaHeader = HTTPReply.send(nginx.url + "/tasks", headers: ["X-API-Key": good])
        #expect(viaHeader.status == 200)

        // Denials are dev-infra's own, and nothing reaches the service.
        let before = served()
        let none = HTTPReply.send(nginx.url + "/tasks", headers: ["X-Dev-Infra-User": "mallory"])
        #expect(none.status == 401 && none.json["code"] as? String == "missing_credentials", "\(none.body)")
        #expect(none.header("WWW-Authenticate") == #"Bearer realm="dev-infra""#)
        #expect(none.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        let scoped = HTTPReply.send(nginx.url + "/tasks", headers: ["Authorization": "Bearer \(unscoped)"])
        #expect(scoped.status == 403 && scoped.json["code"] as? String == "insufficient_scope" && scoped.json["scope"] as? String == "projects:read")
        #expect(scoped.header("WWW-Authenticate") == #"Bearer realm="dev-infra", error="insufficient_scope", scope="projects:read", error_description="insufficient_scope""#)
        let team = HTTPReply.send(nginx.url + "/tasks", headers: ["Authorization": "Bearer \(otherTeam)"])
        #expect(team.status == 403 && team.json["code"] as? String == "team_mismatch")
        var broken = Array(good)
        broken[30] = broken[30] == "x" ? "y" : "x"
        let malformed = HTTPReply.send(nginx.url + "/tasks", headers: ["Authorization": "Bearer \(String(broken))"])
        #expect(malformed.status == 401 && malformed.json["code"] as? String == "malformed_key")
        #expect(served() == before, "no refused request reached the service")

        // Revoked: refused on the very next request.
        #expect(try server.request("DELETE", "/v1/keys/\(try APIKey.parse(good).keyID)", key: adminKey).0 == 200)
        let revoked = HTTPReply.send(nginx.url + "/tasks", headers: ["Authorization": "Bearer \(good)"])
        #expect(revoked.status == 401 && revoked.json["code"] as? String == "key_revoked", "\(revoked.body)")
        #expect(revoked.header("WWW-Authenticate") == #"Bearer realm="dev-infra", error="invalid_token", error_description="key_revoked""#)

        // dev-infra down: the gateway fails closed, and says why.
        server.stop()
        let down = HTTPReply.send(nginx.url + "/tasks", headers: ["Authorization": "Bearer \(otherTeam)"])
        #expect(down.status == 503 && down.json["code"] as? String == "server_unreachable", "\(down.body)")

        // Back, with one request per key per 100 s: the key's 429 reaches the client with Retry-After.
        server = try ServerProcess(folder: sandbox.root + "/server2", arguments: ["--port", String(port), "--rate-limit", "0.01"],
                                   database: server.database, secretFile: server.secretFile)
        let fresh = try key(alice, #"{"name":"limited","scopes":["projects:read"],"team":"qa"}"#)
        #expect(HTTPReply.send(nginx.url + "/tasks", headers: ["Authorization": "Bearer \(fresh)"]).status == 200)
        let limited = HTTPReply.send(nginx.url + "/tasks", headers: ["Authorization": "Bearer \(fresh)"])
        #expect(limited.status == 429 && limited.json["code"] as? String == "rate_limited", "\(limited.body)")
        #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
    }
}

extension GatewayTests {
    /// docs/integrations.md shows the tested file, not a copy that drifted from it.
    @Test func theIntegrationsGuideQuotesTheTestedConfigWhole() throws {
        let root = Nginx.example.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let guide = try String(contentsOf: root.appendingPathComponent("docs/integrations.md"), encoding: .utf8)
        let conf = try String(contentsOf: Nginx.example, encoding: .utf8)
        #expect(guide.contains("```nginx\n" + conf + "```"))
    }
}
