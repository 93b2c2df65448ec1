import DevInfraCore
import Foundation
import Testing
@testable import KeyServer

/// Integrations (issue 11): non-human identities of a team, `TEAM/NAME`, managed by the team's
/// admins; their keys are owned by the integration, bound to its team, within its allowlist, and
/// outlive the person who minted them. Fixture: alice is an admin of web, carol a plain member of
/// web, bob a member of ops, root the server admin.
@Suite struct IntegrationTests {
    @Test func aTeamAdminCreatesAnIntegrationAndOthersCannot() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let carol = try await api.login("carol", "carol-password")
            let bob = try await api.login("bob", "bob-password")

            let created = try await api.createIntegration(alice, scopes: ["projects:read", "keys:read"])
            #expect(created.status == 201, "\(created.text)")
            #expect(created["id"] as? String == "web/deploy-bot")
            #expect(created["team"] as? String == "web" && created["name"] as? String == "deploy-bot")
            #expect(Set(created["scopes"] as? [String] ?? []) == ["projects:read", "keys:read"])
            #expect(created["created_by"] as? String == "alice")
            #expect(IdentityFixture.date(created["created_at"]) != nil)
            #expect(IdentityFixture.isNull(created["disabled_at"]))
            #expect(IdentityFixture.isNull(created["rate_limit"]), "no rate_limit given: the server default")

            let member = try await api.createIntegration(carol, name: "carols-bot", scopes: ["projects:read"])
            #expect(member.status == 403 && member.code == "admin_required", "a plain member is not a team admin: \(member.text)")
            let outsider = try await api.createIntegration(bob, name: "bobs-bot", scopes: ["projects:read"])
            #expect(outsider.status == 403 && ["admin_required", "team_mismatch"].contains(outsider.code ?? ""), "\(outsider.text)")
            let readOnly = try #require(try await api.mintKey(alice, scopes: ["keys:read"]).apiKey)
            let unscoped = try await api.createIntegration(readOnly, name: "ro-bot", scopes: ["keys:read"])
            #expect(unscoped.status == 403 && unscoped.code == "insufficient_scope", "creating an integration needs keys:write")
            #expect(try await api.createIntegration(adminKey, team: "ops", name: "backup", scopes: ["projects:read"]).status == 201,
                    "the server admin creates for any team")

            let badNames = ["", String(repeating: "b", count: 65), "Deploy-Bot", "deploy/bot", "-bot", ".bot", "deploy bot",
                            String(repeating: "a", count: 10_240)]
            for name in badNames {
                let reply = try await api.createIntegration(alice, name: name, scopes: ["projects:read"])
                #expect(reply.status == 400 && reply.code == "invalid_request", "\(name.prefix(20)) (\(name.count)): \(reply.text.prefix(200))")
            }
            #expect(try await api.createIntegration(alice, name: String(repeating: "b", count: 64), scopes: ["projects:read"]).status == 201,
                    "64 characters is the longest name")
            #expect(try await api.createIntegration(alice, name: "9.deploy_bot-2", scopes: ["projects:read"]).status == 201)

            let duplicate = try await api.createIntegration(alice, scopes: ["projects:read"])
            #expect(duplicate.status == 409 && duplicate.code == "already_exists", "\(duplicate.text)")
            let adminScope = try await api.createIntegration(adminKey, name: "root-bot", scopes: ["admin"])
            #expect([400, 403].contains(adminScope.status), "an allowlist never holds admin: \(adminScope.text)")
            let unknownScope = try await api.createIntegration(alice, name: "odd-bot", scopes: ["sync:write"])
            #expect(unknownScope.status == 400 && unknownScope.code == "invalid_request")

            // Visibility: the team's members see its integrations, nobody else does (but admins).
            let aliceList = try await api.call(.get, "/v1/integrations?team=web", key: alice)
            #expect(aliceList.status == 200 && aliceList.items.contains { $0["id"] as? String == "web/deploy-bot" })
            #expect(!aliceList.items.contains { $0["id"] as? String == "root-bot" || $0["team"] as? String == "ops" })
            let carolList = try await api.call(.get, "/v1/integrations", key: carol)
            #expect(carolList.status == 200 && carolList.items.contains { $0["id"] as? String == "web/deploy-bot" })
            #expect(!carolList.items.contains { $0["id"] as? String == "ops/backup" })
            let bobList = try await api.call(.get, "/v1/integrations", key: bob)
            #expect(bobList.status == 200 && !bobList.items.contains { $0["team"] as? String == "web" }, "\(bobList.text)")
            #expect(try await api.call(.get, "/v1/integrations/web/deploy-bot", key: carol)["id"] as? String == "web/deploy-bot")
            #expect(try await api.call(.get, "/v1/integrations/web/deploy-bot", key: bob).status == 404)
            #expect(try await api.call(.get, "/v1/integrations/web/nothing", key: alice).status == 404)
            let opsOnly = try await api.call(.get, "/v1/integrations?team=ops", key: adminKey)
            #expect(opsOnly.items.map { $0["id"] as? String } == ["ops/backup"], "\(opsOnly.text)")
        }
    }

    @Test func keysOfAnIntegrationAreItsOwnAndOutliveTheMintersRole() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let carol = try await api.login("carol", "carol-password")
            let bob = try await api.login("bob", "bob-password")
            #expect(try await api.createIntegration(alice, scopes: ["projects:read", "keys:read"]).status == 201)
            #expect(try await api.call(.post, "/v1/teams/web/projects", key: alice, body: #"{"name":"site"}"#).status == 201)

            let minted = try await api.mintKey(alice, name: "ci", scopes: ["projects:read"], integration: "web/deploy-bot")
            #expect(minted.status == 201, "\(minted.text)")
            let raw = try #require(minted.apiKey)
            let id = try IdentityFixture.id(raw)
            let view = minted.keyView
            #expect(view["owner"] as? String == "web/deploy-bot")
            #expect(view["owner_kind"] as? String == "integration")
            #expect(view["created_by"] as? String == "alice")
            #expect(view["team"] as? String == "web", "an integration's key is always bound to its team")
            #expect(view["scopes"] as? [String] == ["projects:read"])

            // A person's own key says so, for contrast.
            let own = try await api.mintKey(alice, name: "mine", scopes: ["keys:read"])
            #expect(own.keyView["owner"] as? String == "alice" && own.keyView["owner_kind"] as? String == "person")
            #expect(own.keyView["created_by"] as? String == "alice")

            // Naming the team is allowed; another team is not, even for the server admin.
            #expect(try await api.mintKey(alice, name: "ci2", scopes: ["projects:read"], team: "web", integration: "web/deploy-bot").status == 201)
            let otherTeam = try await api.mintKey(alice, scopes: ["projects:read"], team: "ops", integration: "web/deploy-bot")
            #expect(otherTeam.status == 403 && otherTeam.code == "team_mismatch", "\(otherTeam.text)")
            let rootOtherTeam = try await api.mintKey(adminKey, scopes: ["projects:read"], team: "ops", integration: "web/deploy-bot")
            #expect(rootOtherTeam.status == 403 && rootOtherTeam.code == "team_mismatch", "\(rootOtherTeam.text)")

            // The allowlist bounds every key of the integration, whoever mints it.
            let outside = try await api.mintKey(alice, scopes: ["projects:read", "projects:write"], integration: "web/deploy-bot")
            #expect(outside.status == 403 && outside.code == "insufficient_scope", "alice holds projects:write, the integration does not")
            let rootOutside = try await api.mintKey(adminKey, scopes: ["audit:read"], integration: "web/deploy-bot")
            #expect(rootOutside.status == 403 && rootOutside.code == "insufficient_scope")
            let rootInside = try await api.mintKey(adminKey, name: "root-made", scopes: ["keys:read"], integration: "web/deploy-bot")
            #expect(rootInside.status == 201 && rootInside.keyView["created_by"] as? String == "root")

            // Only the team's admins (and the server admin) mint for it.
            let member = try await api.mintKey(carol, scopes: ["projects:read"], integration: "web/deploy-bot")
            #expect(member.status == 403 && member.code == "admin_required", "\(member.text)")
            let outsider = try await api.mintKey(bob, scopes: ["projects:read"], integration: "web/deploy-bot")
            #expect([403, 404].contains(outsider.status) && outsider.apiKey == nil, "\(outsider.text)")
            #expect(try await api.mintKey(adminKey, scopes: ["projects:read"], integration: "web/nothing").status == 404)

            // The key acts as the integration.
            let me = try await api.whoami(raw)
            #expect(me.status == 200 && me["user"] as? String == "web/deploy-bot" && me["team"] as? String == "web")
            #expect(try await api.call(.get, "/v1/teams/web/projects", key: raw).status == 200)

            // Demoted, alice can no longer mint for it; what she minted keeps working.
            try await server.setRole("alice", team: "web", .member)
            let demoted = try await api.mintKey(alice, scopes: ["projects:read"], integration: "web/deploy-bot")
            #expect(demoted.status == 403 && demoted.code == "admin_required", "the demotion took effect: \(demoted.text)")
            let after = try await api.whoami(raw)
            #expect(after.status == 200 && after["user"] as? String == "web/deploy-bot", "\(after.text)")
            #expect(try await api.call(.get, "/v1/teams/web/projects", key: raw).status == 200)
            #expect(try await api.call(.get, "/v1/keys/\(id)", key: adminKey)["state"] as? String == "active")

            // The audit says who minted it (the person) and for whom (the integration).
            let rows = try await api.call(.get, "/v1/audit?event=key.created&key_id=\(id)", key: adminKey).items
            #expect(rows.count == 1, "\(rows)")
            #expect(rows.first?["actor"] as? String == "alice")
            #expect(rows.first?["target"] as? String == "web/deploy-bot")
            #expect(rows.first?["credential"] as? String == "jwt")
            #expect(rows.first?["team"] as? String == "web")
        }
    }

    @Test func aTeamAdminManagesTheTeamsKeysAndAMemberOnlyTheirOwn() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let carol = try await api.login("carol", "carol-password")
            let bob = try await api.login("bob", "bob-password")
            #expect(try await api.createIntegration(alice, scopes: ["projects:read"]).status == 201)
            let bot = try #require(try await api.mintKey(alice, name: "bot", scopes: ["projects:read"], integration: "web/deploy-bot").apiKey)
            let botID = try IdentityFixture.id(bot)
            let carolWeb = try #require(try await api.mintKey(carol, name: "carol-web", scopes: ["projects:read"], team: "web").apiKey)
            let carolWebID = try IdentityFixture.id(carolWeb)
            let carolOwn = try #require(try await api.mintKey(carol, name: "carol-own", scopes: ["projects:read"]).apiKey)
            let carolOwnID = try IdentityFixture.id(carolOwn)
            let aliceWeb = try #require(try await api.mintKey(alice, name: "alice-web", scopes: ["projects:read"], team: "web").apiKey)
            let aliceWebID = try IdentityFixture.id(aliceWeb)

            // The team admin: every key bound to web, none of a member's team-less keys.
            #expect(try await api.call(.get, "/v1/keys/\(carolWebID)", key: alice).status == 200)
            #expect(try await api.call(.get, "/v1/keys/\(botID)", key: alice).status == 200)
            #expect(try await api.call(.get, "/v1/keys/\(carolOwnID)", key: alice).status == 404)
            #expect(try await api.call(.delete, "/v1/keys/\(carolOwnID)", key: alice).status == 404)
            #expect(try await api.patchKey(alice, carolOwnID, #"{"name":"x"}"#).status == 404)
            #expect(try await api.patchKey(alice, carolWebID, #"{"name":"renamed-by-admin"}"#)["name"] as? String == "renamed-by-admin")
            let revoked = try await api.call(.delete, "/v1/keys/\(carolWebID)", key: alice, body: #"{"reason":"offboarding"}"#)
            #expect(revoked.status == 200 && revoked["state"] as? String == "revoked" && revoked["revoked_by"] as? String == "alice")
            #expect(try await api.whoami(carolWeb).code == "key_revoked")
            #expect(try await api.whoami(carolOwn).status == 200, "the team-less key was not touched")

            // A member: their own keys only, not the integration's nor the admin's team keys.
            #expect(try await api.call(.get, "/v1/keys/\(carolOwnID)", key: carol).status == 200)
            #expect(try await api.call(.get, "/v1/keys/\(botID)", key: carol).status == 404)
            #expect(try await api.call(.get, "/v1/keys/\(aliceWebID)", key: carol).status == 404)
            #expect(try await api.call(.delete, "/v1/keys/\(botID)", key: carol).status == 404)
            #expect(try await api.call(.delete, "/v1/keys/\(aliceWebID)", key: carol).status == 404)
            let listed = try await api.call(.get, "/v1/keys", key: carol)
            #expect(listed.status == 200 && !listed.items.isEmpty && listed.items.allSatisfy { $0["owner"] as? String == "carol" }, "\(listed.text)")

            // Another team's member sees none of it.
            #expect(try await api.call(.get, "/v1/keys/\(botID)", key: bob).status == 404)
            #expect(try await api.call(.delete, "/v1/keys/\(aliceWebID)", key: bob).status == 404)

            // The team admin revokes an integration key; the server admin still sees everything.
            #expect(try await api.call(.delete, "/v1/keys/\(botID)", key: alice).status == 200)
            #expect(try await api.whoami(bot).code == "key_revoked")
            #expect(try await api.call(.get, "/v1/keys/\(carolOwnID)", key: adminKey).status == 200)
        }
    }

    @Test func deletingAnIntegrationRevokesItsKeysAndNothingElse() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let carol = try await api.login("carol", "carol-password")
            let bob = try await api.login("bob", "bob-password")
            #expect(try await api.createIntegration(alice, scopes: ["projects:read"]).status == 201)
            #expect(try await api.createIntegration(alice, name: "other-bot", scopes: ["projects:read"]).status == 201)
            let first = try #require(try await api.mintKey(alice, name: "one", scopes: ["projects:read"], integration: "web/deploy-bot").apiKey)
            let second = try #require(try await api.mintKey(alice, name: "two", scopes: ["projects:read"], integration: "web/deploy-bot").apiKey)
            let sibling = try #require(try await api.mintKey(alice, name: "sib", scopes: ["projects:read"], integration: "web/other-bot").apiKey)
            let aliceWeb = try #require(try await api.mintKey(alice, name: "aw", scopes: ["projects:read"], team: "web").apiKey)
            let carolWeb = try #require(try await api.mintKey(carol, name: "cw", scopes: ["projects:read"], team: "web").apiKey)
            for key in [first, second, sibling, aliceWeb, carolWeb] { #expect(try await api.whoami(key).status == 200) }

            let member = try await api.call(.delete, "/v1/integrations/web/deploy-bot", key: carol)
            #expect(member.status == 403 && member.code == "admin_required", "\(member.text)")
            let outsider = try await api.call(.delete, "/v1/integrations/web/deploy-bot", key: bob)
            #expect([403, 404].contains(outsider.status), "\(outsider.text)")
            #expect(try await api.whoami(first).status == 200, "a refused delete revoked nothing")

            let deleted = try await api.call(.delete, "/v1/integrations/web/deploy-bot", key: alice)
            #expect(deleted.status == 200 && deleted["id"] as? String == "web/deploy-bot", "\(deleted.text)")
            for key in [first, second] {
                let reply = try await api.whoami(key)
                #expect(reply.status == 401 && reply.code == "key_revoked", "\(reply.text)")
                let id = try IdentityFixture.id(key)
                let shown = try await api.call(.get, "/v1/keys/\(id)", key: adminKey)
                #expect(shown["state"] as? String == "revoked" && shown["revoke_reason"] as? String == "integration deleted", "\(shown.text)")
            }
            for key in [sibling, aliceWeb, carolWeb] { #expect(try await api.whoami(key).status == 200, "only the integration's keys go") }
            #expect(try await api.call(.get, "/v1/integrations/web/deploy-bot", key: alice).status == 404)
            #expect(try await api.call(.get, "/v1/integrations/web/other-bot", key: alice).status == 200)
            #expect(try await api.call(.delete, "/v1/integrations/web/deploy-bot", key: alice).status == 404, "gone: a second delete finds nothing")
            let minted = try await api.mintKey(alice, scopes: ["projects:read"], integration: "web/deploy-bot")
            #expect(minted.status == 404 && minted.apiKey == nil, "no key for a deleted integration: \(minted.text)")
            // The team and its members are untouched.
            #expect(try await api.call(.get, "/v1/teams/web/projects", key: carol).status == 200)
            #expect(try await api.whoami(alice)["user"] as? String == "alice")
        }
    }
}
