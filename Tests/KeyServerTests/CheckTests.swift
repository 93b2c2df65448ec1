import DevInfraCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import KeyServer

/// `/v1/check`, forward-auth for gateways: who the caller is in headers for the upstream, the
/// API's own denials (repeated in headers for nginx), requirements that only add up, every method.
@Suite struct CheckTests {
    static func check(_ api: API, _ path: String = "/v1/check", method: HTTPRequest.Method = .get, key: String?,
                      headers extra: HTTPFields = [:]) async throws -> API.Reply {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await api.client.executeRequest(uri: path, method: method, headers: headers, body: nil).reply
    }

    @Test func aGoodKeyIsNamedInHeadersAndDenialsAreTheAPIsOwn() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.createKey(alice, name: "ci", scopes: ["projects:read"], team: "web")["api_key"] as? String)
            let keyID = try APIKey.parse(key).keyID

            let ok = try await Self.check(api, "/v1/check?scope=projects:read&team=web", key: key)
            #expect(ok.status == 200 && ok.headers[.cacheControl] == "no-store")
            #expect(ok.headers[.xDevInfraUser] == "alice" && ok.headers[.xDevInfraKeyID] == keyID)
            #expect(ok.headers[.xDevInfraTeam] == "web" && ok.headers[.xDevInfraScopes] == "projects:read")
            #expect(ok["user"] as? String == "alice" && ok["state"] as? String == "active" && ok["scopes"] as? [String] == ["projects:read"])

            let none = try await Self.check(api, key: nil)
            #expect(none.status == 401 && none.code == "missing_credentials" && none.headers[.wwwAuthenticate] == #"Bearer realm="dev-infra""#)
            #expect(none.headers[.xDevInfraStatus] == "401" && none.headers[.xDevInfraCode] == "missing_credentials")
            let problem = try JSONSerialization.jsonObject(with: Data((none.headers[.xDevInfraProblem] ?? "").utf8)) as? [String: Any]
            #expect(problem?["code"] as? String == "missing_credentials" && problem?["status"] as? Int == 401)

            let scoped = try await Self.check(api, "/v1/check?scope=projects:write", key: key)
            #expect(scoped.status == 403 && scoped.code == "insufficient_scope" && scoped["scope"] as? String == "projects:write")
            #expect(scoped.headers[.wwwAuthenticate]?.contains(#"scope="projects:write""#) == true)
            let team = try await Self.check(api, "/v1/check?team=ops", key: key)
            #expect(team.status == 403 && team.code == "team_mismatch")

            #expect(try await api.call(.delete, "/v1/keys/\(keyID)", key: adminKey).status == 200)
            let revoked = try await Self.check(api, key: key)
            #expect(revoked.status == 401 && revoked.code == "key_revoked" && revoked.headers[.xDevInfraUser] == nil)
            #expect(revoked.headers[.wwwAuthenticate]?.contains(#"error_description="key_revoked""#) == true)
        }
    }

    @Test func requirementsFromQueryAndHeadersAddUpSoAClientCannotLoosenThem() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.createKey(alice, name: "r", scopes: ["projects:read"], team: "web")["api_key"] as? String)
            let header = try await Self.check(api, key: key, headers: [.xDevInfraRequireScope: "projects:write"])
            #expect(header.status == 403 && header.code == "insufficient_scope")
            let both = try await Self.check(api, "/v1/check?scope=projects:read", key: key, headers: [.xDevInfraRequireTeam: "ops"])
            #expect(both.status == 403 && both.code == "team_mismatch")
            let twoTeams = try await Self.check(api, "/v1/check?team=web&team=ops", key: key)
            #expect(twoTeams.status == 403, "two teams are both required")
            let unknown = try await Self.check(api, "/v1/check?scope=sync:write", key: key)
            #expect(unknown.status == 400 && unknown.code == "invalid_request")
        }
    }

    @Test func everyMethodAndAnyPathBelowAreChecked() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.createKey(alice, name: "r", scopes: ["projects:read"])["api_key"] as? String)
            for method in CheckController.methods {
                let reply = try await Self.check(api, "/v1/check/api/tasks/7?scope=projects:read", method: method, key: key)
                #expect(reply.status == 200 && reply.headers[.xDevInfraUser] == "alice", "\(method)")
                let refused = try await Self.check(api, "/v1/check/x", method: method, key: nil)
                #expect(refused.status == 401, "\(method)")
            }
        }
    }

    @Test func theKeysRateLimitAppliesAndNginxModeTurnsA429IntoA403ThatSaysSo() async throws {
        let server = TestServer()
        server.rateLimit = 1
        _ = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.createKey(alice, name: "r", scopes: ["projects:read"])["api_key"] as? String)
            let allowed = try await Self.check(api, "/v1/check?compat=nginx", key: key)
            #expect(allowed.status == 200 && allowed.text.isEmpty && allowed.headers[.xDevInfraUser] == "alice",
                    "nginx reads headers only, and keeps the connection only when there is no body")
            let limited = try await Self.check(api, key: key)
            #expect(limited.status == 429 && limited.code == "rate_limited" && limited.headers[.retryAfter] != nil)
            let nginx = try await Self.check(api, "/v1/check?compat=nginx", key: key)
            #expect(nginx.status == 403 && nginx.headers[.xDevInfraStatus] == "429" && nginx.headers[.xDevInfraCode] == "rate_limited")
            #expect(nginx.headers[.retryAfter] != nil && nginx.text.isEmpty && nginx.headers[.xDevInfraProblem]?.contains("rate_limited") == true)
            let denied = try await Self.check(api, "/v1/check?compat=nginx", key: nil)
            #expect(denied.status == 401, "401 and 403 stay as they are")
        }
    }

    @Test func checksCountAsUseAndAreAuditedAsCountedRows() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let key = try #require(try await api.createKey(adminKey, name: "c", scopes: ["keys:read"])["api_key"] as? String)
            let keyID = try APIKey.parse(key).keyID
            for _ in 0..<5 { #expect(try await Self.check(api, key: key).status == 200) }
            #expect(try await Self.check(api, "/v1/check?scope=admin", key: key).status == 403)
            let rows = try await api.call(.get, "/v1/audit?event=key.checked&key_id=\(keyID)", key: adminKey).items
            #expect(rows.count == 2, "\(rows)")
            #expect(rows.contains { $0["count"] as? Int == 5 && $0["code"] == nil && $0["actor"] == nil })
            #expect(rows.contains { $0["count"] as? Int == 1 && $0["code"] as? String == "insufficient_scope" })
            #expect(try await api.call(.get, "/v1/keys/\(keyID)", key: adminKey)["last_used_at"] as? String != nil)
        }
    }

    @Test func madeUpKeysCostABoundedNumberOfReadsAndLeaveNoRowEach() async throws {
        let server = TestServer()
        server.limits.unknownKeyBurst = 3
        server.limits.unknownKeysPerSecond = 0.001
        let adminKey = try await server.seed()
        try await server.run { api in
            let known = try #require(try await api.createKey(adminKey, name: "k", scopes: ["keys:read"])["api_key"] as? String)
            #expect(try await Self.check(api, key: known).status == 200, "read once, now in memory")
            for _ in 0..<3 { #expect(try await Self.check(api, key: APIKey.generate().rawValue).code == "unknown_key") }
            let dry = try await Self.check(api, key: APIKey.generate().rawValue)
            #expect(dry.status == 429 && dry.code == "rate_limited", "no read once the budget is spent: \(dry.text)")
            #expect(try await Self.check(api, key: known).status == 200, "a key in memory is still served")
            let rows = try await api.call(.get, "/v1/audit?event=key.checked", key: adminKey).items
            #expect(rows.contains { $0["code"] as? String == "unknown_key" && $0["count"] as? Int == 3 && $0["key_id"] == nil }, "\(rows)")
        }
    }

    @Test func aNonASCIIProblemFitsAHeaderAsTheSameJSON() throws {
        let json = #"{"detail":"team café 🚀 \"x\""}"#
        let ascii = JSONText.ascii(json)
        #expect(ascii.utf8.allSatisfy { $0 < 0x7F })
        let a = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
        let b = try JSONSerialization.jsonObject(with: Data(ascii.utf8)) as? [String: String]
        #expect(a == b && b?["detail"] == "team café 🚀 \"x\"")
    }
}
