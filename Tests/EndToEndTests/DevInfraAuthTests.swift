import DevInfraAuth
import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The `DevInfraAuth` middleware in a small Hummingbird service, asking the real server binary.
@Suite struct DevInfraAuthTests {
    let sandbox = Sandbox()

    /// A QA-task service: `GET /tasks` needs projects:read on team qa and says who asked.
    static func service(_ introspector: DevInfraIntrospector) -> some ApplicationProtocol {
        let router = Router(context: DevInfraRequestContext.self)
        router.group("tasks").add(middleware: DevInfraAuthMiddleware(introspector, scopes: ["projects:read"], team: "qa"))
            .get { _, context in "tasks for \(context.devInfraPrincipal?.username ?? "?") via \(context.devInfraPrincipal?.keyID ?? "-")" }
        return Application(router: router)
    }

    static func get(_ client: some TestClientProtocol, _ headers: HTTPFields) async throws -> (Int, HTTPFields, [String: Any], String) {
        let response = try await client.executeRequest(uri: "/tasks", method: .get, headers: headers, body: nil)
        let text = String(buffer: response.body)
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return (Int(response.status.code), response.headers, json, text)
    }

    @Test func theMiddlewareLetsThroughWhatTheServerAcceptsAndRefusesTheRestWithItsReasonCodes() async throws {
        let server = try ServerProcess(folder: sandbox.root + "/server")
        defer { server.stop() }
        let admin = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .newlines)
        for team in ["qa", "web"] { #expect(try server.admin(["admin", "team", "add", team]).status == 0) }
        #expect(try server.admin(["admin", "user", "add", "alice", "--team", "qa"], stdin: "pw-alice\n").status == 0)
        let (_, signIn) = try server.request("POST", "/v1/auth/token", body: #"{"username":"alice","password":"pw-alice"}"#)
        let alice = try #require(signIn["access_token"] as? String)
        func key(_ by: String, _ body: String) throws -> String {
            try #require(try server.request("POST", "/v1/keys", key: by, body: body).1["api_key"] as? String)
        }
        let serviceKey = try key(admin, #"{"name":"qa-tasks","scopes":["keys:introspect"],"team":"qa"}"#)
        let good = try key(alice, #"{"name":"ci","scopes":["projects:read"],"team":"qa"}"#)
        let reader = try key(alice, #"{"name":"r","scopes":["keys:read"],"team":"qa"}"#)
        let personal = try key(alice, #"{"name":"p","scopes":["projects:read"]}"#)

        let introspector = try DevInfraIntrospector(server: URL(string: server.url)!, credential: serviceKey)
        try await Self.service(introspector).test(.router) { client in
            let (ok, _, _, text) = try await Self.get(client, [.authorization: "Bearer \(good)"])
            let goodID = try APIKey.parse(good).keyID
            #expect(ok == 200 && text == "tasks for alice via \(goodID)", "\(text)")
            #expect(try await Self.get(client, [HTTPField.Name("X-API-Key")!: personal]).0 == 200, "a member's team-less key")
            #expect(try await Self.get(client, [.authorization: "Bearer \(alice)"]).0 == 200, "a signed-in token")

            let (none, headers, problem, _) = try await Self.get(client, [:])
            #expect(none == 401 && problem["code"] as? String == "missing_credentials" && headers[.wwwAuthenticate] == #"Bearer realm="dev-infra""#)
            let (scoped, scopedHeaders, scopedProblem, _) = try await Self.get(client, [.authorization: "Bearer \(reader)"])
            #expect(scoped == 403 && scopedProblem["code"] as? String == "insufficient_scope" && scopedProblem["scope"] as? String == "projects:read")
            #expect(scopedHeaders[.wwwAuthenticate]?.contains(#"scope="projects:read""#) == true)

            #expect(try server.request("DELETE", "/v1/keys/\(goodID)", key: admin).0 == 200)
            let (revoked, revokedHeaders, revokedProblem, _) = try await Self.get(client, [.authorization: "Bearer \(good)"])
            #expect(revoked == 401 && revokedProblem["code"] as? String == "key_revoked", "refused on the very next request")
            #expect(revokedHeaders[.wwwAuthenticate] == #"Bearer realm="dev-infra", error="invalid_token", error_description="key_revoked""#)
        }
        // A key of team web where qa is required: the server's team_mismatch.
        let webKey = try key(admin, #"{"name":"w","scopes":["projects:read"],"team":"web"}"#)
        try await Self.service(introspector).test(.router) { client in
            let (status, _, problem, _) = try await Self.get(client, [.authorization: "Bearer \(webKey)"])
            #expect(status == 403 && problem["code"] as? String == "team_mismatch")
        }
        server.stop()
        try await Self.service(introspector).test(.router) { client in
            let (down, headers, problem, _) = try await Self.get(client, [.authorization: "Bearer \(personal)"])
            #expect(down == 503 && problem["code"] as? String == "server_unreachable" && headers[.retryAfter] == "1", "fails closed")
        }
    }

    @Test func plainHTTPIsOnlyForLoopback() throws {
        #expect(throws: DevInfraAuthError.self) { try DevInfraIntrospector(server: URL(string: "http://keys.example.com")!, credential: "k") }
        #expect(throws: DevInfraAuthError.self) { try DevInfraIntrospector(server: URL(string: "ftp://127.0.0.1")!, credential: "k") }
        _ = try DevInfraIntrospector(server: URL(string: "https://keys.example.com")!, credential: "k")
        _ = try DevInfraIntrospector(server: URL(string: "http://[::1]:8080")!, credential: "k")
    }

    @Test func aMalformedKeyNeverLeavesTheProcess() async throws {
        // Nothing listens on port 9: a call to the server would be a 503, not a 401.
        let introspector = try DevInfraIntrospector(server: URL(string: "http://127.0.0.1:9")!, credential: "unused")
        var chars = Array(APIKey.generate().rawValue)
        chars[15] = chars[15] == "a" ? "b" : "a"
        let broken = chars
        try await Self.service(introspector).test(.router) { client in
            for headers: HTTPFields in [[.authorization: "Bearer \(String(broken))"], [HTTPField.Name("X-API-Key")!: String(broken)],
                                        [HTTPField.Name("X-API-Key")!: "not-a-key"], [.authorization: "Bearer \(String(broken.prefix(30)))"]] {
                let (status, _, problem, _) = try await Self.get(client, headers)
                #expect(status == 401 && problem["code"] as? String == "malformed_key", "\(headers)")
            }
            let (basic, _, problem, _) = try await Self.get(client, [.authorization: "Basic YTpi"])
            #expect(basic == 401 && problem["code"] as? String == "invalid_token")
            let (good, _, _, _) = try await Self.get(client, [.authorization: "Bearer \(APIKey.generate().rawValue)"])
            #expect(good == 503, "a well-formed key is sent on, and the missing server is a 503")
        }
    }
}
