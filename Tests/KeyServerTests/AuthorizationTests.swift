import DevInfraCore
import Foundation
import Testing

/// 403s, and escalation refused: no scope, team or lifetime beyond the caller's own.
@Suite struct AuthorizationTests {
    @Test func scopesTeamsAndAdminAreEnforced() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let readOnly = try #require(try await api.createKey(alice, scopes: ["keys:read"])["api_key"] as? String)

            let noWrite = try await api.createKey(readOnly, scopes: ["keys:read"])
            #expect(noWrite.status == 403 && noWrite.code == "insufficient_scope")
            #expect(noWrite["scope"] as? String == "keys:write")
            #expect(noWrite.headers[.wwwAuthenticate]?.contains("scope=\"keys:write\"") == true)

            let escalate = try await api.createKey(alice, scopes: ["keys:read", "audit:read"])
            #expect(escalate.code == "insufficient_scope" && escalate["scope"] as? String == "audit:read")

            let otherTeam = try await api.createKey(alice, scopes: ["projects:read"], team: "ops")
            #expect(otherTeam.status == 403 && otherTeam.code == "team_mismatch")

            let all = try await api.call(.get, "/v1/keys?all=true", key: alice)
            #expect(all.status == 403 && all.code == "admin_required")
            #expect(try await api.call(.get, "/v1/audit", key: alice).code == "admin_required")

            // A key bound to a team acts only for that team, and mints only for it.
            let webKey = try #require(try await api.createKey(alice, scopes: ["keys:write", "keys:read", "projects:read", "projects:write"], team: "web")["api_key"] as? String)
            #expect(try await api.createKey(webKey, scopes: ["keys:read"]).code == "team_mismatch")
            #expect(try await api.createKey(webKey, scopes: ["keys:read"], team: "web").status == 201)
            #expect(try await api.call(.post, "/v1/teams/web/projects", key: webKey, body: #"{"name":"site"}"#).status == 201)
            let projects = try await api.call(.get, "/v1/teams/web/projects", key: webKey)
            #expect(projects.status == 200 && projects.text.contains("\"site\""))
            #expect(try await api.call(.get, "/v1/teams/ops/projects", key: webKey).code == "team_mismatch")
            #expect(try await api.call(.get, "/v1/teams/ops/projects", key: alice).code == "team_mismatch")
            #expect(try await api.call(.get, "/v1/teams/ops/projects", key: adminKey).status == 200)
            #expect(try await api.call(.get, "/v1/teams/web/projects", key: readOnly).code == "insufficient_scope")

            // A key with an expiry cannot mint one that outlives it.
            let shortLived = try #require(try await api.createKey(alice, scopes: ["keys:write"], expiresIn: 3600)["api_key"] as? String)
            #expect(try await api.createKey(shortLived, scopes: ["keys:write"]).code == "expiry_exceeds_credential")
            #expect(try await api.createKey(shortLived, scopes: ["keys:write"], expiresIn: 7200).code == "expiry_exceeds_credential")
            #expect(try await api.createKey(shortLived, scopes: ["keys:write"], expiresIn: 600).status == 201)

            // Keys of others are not found, rather than forbidden, so their ids cannot be probed.
            let bob = try await api.login("bob", "bob-password")
            let aliceKeyID = try APIKey.parse(readOnly).keyID
            #expect(try await api.call(.get, "/v1/keys/\(aliceKeyID)", key: bob).status == 404)
            #expect(try await api.call(.delete, "/v1/keys/\(aliceKeyID)", key: bob).status == 404)
            #expect(try await api.call(.get, "/v1/whoami", key: readOnly).status == 200)

            let rejected = try await api.call(.get, "/v1/audit?event=request.rejected", key: adminKey)
            let codes = Set(rejected.items.compactMap { $0["code"] as? String })
            #expect(codes.isSuperset(of: ["insufficient_scope", "team_mismatch", "admin_required"]))
            #expect(rejected.items.allSatisfy { ($0["request_id"] as? String)?.isEmpty == false && $0["client"] != nil })
        }
    }
}
