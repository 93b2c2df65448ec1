import DevInfraCore
import Foundation
import Testing
@testable import KeyServer

/// `POST /v1/disable` and `/v1/enable` (issue 11): one switch for a user's, an integration's or a
/// team's keys, effective on the very next request (a key used just before is in the cache: the
/// switch must reach it), undone by enable, shown as state `disabled`, audited once per change.
/// Fixture: alice is an admin of web, carol a plain member of web, bob a member of ops.
@Suite struct KillSwitchTests {
    /// The audit rows of `event`, read by the server admin.
    static func rows(_ api: API, _ event: String, admin: String) async throws -> [[String: Any]] {
        try await api.call(.get, "/v1/audit?event=\(event)", key: admin).items
    }

    /// Whether an audit row names `name` (as its target, or as its team for a team switch).
    static func names(_ row: [String: Any], _ name: String) -> Bool {
        row["target"] as? String == name || row["team"] as? String == name
    }

    @Test func anAdminDisablesAUserAndEnablesThemAgain() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let carol = try await api.login("carol", "carol-password")
            let personal = try #require(try await api.mintKey(alice, name: "p", scopes: ["keys:read"]).apiKey)
            let webBound = try #require(try await api.mintKey(alice, name: "w", scopes: ["projects:read"], team: "web").apiKey)
            let gone = try #require(try await api.mintKey(alice, name: "gone", scopes: ["keys:read"]).apiKey)
            let goneID = try IdentityFixture.id(gone)
            let carols = try #require(try await api.mintKey(carol, name: "c", scopes: ["keys:read"]).apiKey)
            #expect(try await api.call(.delete, "/v1/keys/\(goneID)", key: adminKey).status == 200)
            // Used once each, so each is in the key cache when the switch is thrown.
            for key in [personal, webBound, carols] { #expect(try await api.whoami(key).status == 200) }

            let off = try await api.disable(adminKey, #"{"user":"alice"}"#)
            #expect(off.status == 200, "\(off.text)")
            #expect(off["user"] as? String == "alice" && off["disabled"] as? Bool == true)
            #expect(IdentityFixture.date(off["disabled_at"]) == server.clock.read())
            for key in [personal, webBound] {
                let refused = try await api.whoami(key)
                #expect(refused.status == 401 && refused.code == "key_disabled", "\(refused.text)")
            }
            #expect(try await api.whoami(carols).status == 200, "another user's key is untouched")
            #expect(try await api.whoami(gone).code == "key_revoked", "revoked comes before disabled")

            let personalID = try IdentityFixture.id(personal)
            #expect(try await api.call(.get, "/v1/keys/\(personalID)", key: adminKey)["state"] as? String == "disabled")
            #expect(try await api.call(.get, "/v1/keys/\(goneID)", key: adminKey)["state"] as? String == "revoked")
            let listed = try await api.call(.get, "/v1/keys?owner=alice", key: adminKey)
            var states: [String: String] = [:]
            for item in listed.items {
                if let id = item["id"] as? String { states[id] = item["state"] as? String ?? "" }
            }
            let webBoundID = try IdentityFixture.id(webBound)
            #expect(states[personalID] == "disabled" && states[webBoundID] == "disabled", "\(listed.text)")
            #expect(states[goneID] == "revoked")

            let on = try await api.enable(adminKey, #"{"user":"alice"}"#)
            #expect(on.status == 200 && on["user"] as? String == "alice" && on["disabled"] as? Bool == false, "\(on.text)")
            #expect(IdentityFixture.isNull(on["disabled_at"]))
            for key in [personal, webBound] { #expect(try await api.whoami(key).status == 200) }
            #expect(try await api.call(.get, "/v1/keys/\(personalID)", key: adminKey)["state"] as? String == "active")
            #expect(try await api.whoami(gone).code == "key_revoked", "enable does not bring back a revoked key")

            let disabledRows = try await Self.rows(api, "user.disabled", admin: adminKey)
            #expect(disabledRows.count == 1, "\(disabledRows)")
            #expect(disabledRows.first.map { Self.names($0, "alice") && $0["actor"] as? String == "root" } == true, "\(disabledRows)")
            let enabledRows = try await Self.rows(api, "user.enabled", admin: adminKey)
            #expect(enabledRows.count == 1, "\(enabledRows)")
            #expect(enabledRows.first.map { Self.names($0, "alice") } == true, "\(enabledRows)")
        }
    }

    @Test func onlyAnAdminSwitchesUsersAndNeverThemselves() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let carol = try await api.login("carol", "carol-password")
            let carols = try #require(try await api.mintKey(carol, name: "c", scopes: ["keys:read"]).apiKey)

            let byMember = try await api.disable(carol, #"{"user":"bob"}"#)
            #expect(byMember.status == 403 && byMember.code == "admin_required", "\(byMember.text)")
            let byTeamAdmin = try await api.disable(alice, #"{"user":"carol"}"#)
            #expect(byTeamAdmin.status == 403 && byTeamAdmin.code == "admin_required", "a team admin does not switch people: \(byTeamAdmin.text)")
            #expect(try await api.whoami(carols).status == 200)
            let enableByMember = try await api.enable(carol, #"{"user":"carol"}"#)
            #expect(enableByMember.status == 403 && enableByMember.code == "admin_required")

            let own = try await api.disable(adminKey, #"{"user":"root"}"#)
            #expect(own.status == 400 && own.code == "invalid_request", "an admin cannot lock themselves out: \(own.text)")
            #expect(try await api.whoami(adminKey).status == 200)

            // An admin credential without the admin scope is not enough for people.
            let adminNoScope = try #require(try await api.mintKey(adminKey, name: "ops", scopes: ["keys:read", "keys:write"]).apiKey)
            let unscoped = try await api.disable(adminNoScope, #"{"user":"carol"}"#)
            #expect(unscoped.status == 403, "\(unscoped.text)")
            #expect(try await api.whoami(carols).status == 200)

            #expect(try await Self.rows(api, "user.disabled", admin: adminKey).isEmpty, "refusals change nothing")
        }
    }

    @Test func aTeamAdminSwitchesTheTeamsIntegrations() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let carol = try await api.login("carol", "carol-password")
            #expect(try await api.createIntegration(alice, scopes: ["projects:read"]).status == 201)
            #expect(try await api.createIntegration(adminKey, team: "ops", name: "backup", scopes: ["projects:read"]).status == 201)
            let bot = try #require(try await api.mintKey(alice, name: "bot", scopes: ["projects:read"], integration: "web/deploy-bot").apiKey)
            let aliceWeb = try #require(try await api.mintKey(alice, name: "aw", scopes: ["projects:read"], team: "web").apiKey)
            #expect(try await api.whoami(bot).status == 200)

            let byMember = try await api.disable(carol, #"{"integration":"web/deploy-bot"}"#)
            #expect(byMember.status == 403 && byMember.code == "admin_required", "\(byMember.text)")
            let otherTeam = try await api.disable(alice, #"{"integration":"ops/backup"}"#)
            #expect([403, 404].contains(otherTeam.status), "not alice's team: \(otherTeam.text)")
            #expect(try await api.whoami(bot).status == 200)

            let off = try await api.disable(alice, #"{"integration":"web/deploy-bot"}"#)
            #expect(off.status == 200 && off["integration"] as? String == "web/deploy-bot" && off["disabled"] as? Bool == true, "\(off.text)")
            let refused = try await api.whoami(bot)
            #expect(refused.status == 401 && refused.code == "key_disabled", "\(refused.text)")
            #expect(try await api.whoami(aliceWeb).status == 200, "the team's other keys still work")
            let shownOff = try await api.call(.get, "/v1/integrations/web/deploy-bot", key: alice)
            #expect(IdentityFixture.date(shownOff["disabled_at"]) != nil, "\(shownOff.text)")
            let botID = try IdentityFixture.id(bot)
            #expect(try await api.call(.get, "/v1/keys/\(botID)", key: alice)["state"] as? String == "disabled")

            let on = try await api.enable(alice, #"{"integration":"web/deploy-bot"}"#)
            #expect(on.status == 200 && on["disabled"] as? Bool == false, "\(on.text)")
            #expect(try await api.whoami(bot).status == 200)
            let shownOn = try await api.call(.get, "/v1/integrations/web/deploy-bot", key: alice)
            #expect(IdentityFixture.isNull(shownOn["disabled_at"]), "\(shownOn.text)")

            let disabledRows = try await Self.rows(api, "integration.disabled", admin: adminKey)
            #expect(disabledRows.count == 1, "\(disabledRows)")
            #expect(disabledRows.first.map { Self.names($0, "web/deploy-bot") && $0["actor"] as? String == "alice" } == true, "\(disabledRows)")
            #expect(try await Self.rows(api, "integration.enabled", admin: adminKey).count == 1)
        }
    }

    @Test func aTeamSwitchStopsTheTeamsKeysButNotTeamlessKeysOfItsMembers() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let carol = try await api.login("carol", "carol-password")
            let bob = try await api.login("bob", "bob-password")
            #expect(try await api.createIntegration(alice, scopes: ["projects:read"]).status == 201)
            let bot = try #require(try await api.mintKey(alice, name: "bot", scopes: ["projects:read"], integration: "web/deploy-bot").apiKey)
            let aliceWeb = try #require(try await api.mintKey(alice, name: "aw", scopes: ["projects:read"], team: "web").apiKey)
            let carolWeb = try #require(try await api.mintKey(carol, name: "cw", scopes: ["projects:read"], team: "web").apiKey)
            let carolOwn = try #require(try await api.mintKey(carol, name: "co", scopes: ["projects:read"]).apiKey)
            let aliceOwn = try #require(try await api.mintKey(alice, name: "ao", scopes: ["keys:read"]).apiKey)
            let bobOps = try #require(try await api.mintKey(bob, name: "bo", scopes: ["projects:read"], team: "ops").apiKey)
            let teamBound = [bot, aliceWeb, carolWeb]
            let untouched = [carolOwn, aliceOwn, bobOps]
            for key in teamBound + untouched { #expect(try await api.whoami(key).status == 200) }

            let byMember = try await api.disable(carol, #"{"team":"web"}"#)
            #expect(byMember.status == 403 && byMember.code == "admin_required", "\(byMember.text)")
            let otherTeam = try await api.disable(alice, #"{"team":"ops"}"#)
            #expect(otherTeam.status == 403, "alice is no admin of ops: \(otherTeam.text)")
            #expect(try await api.whoami(bobOps).status == 200)

            let off = try await api.disable(alice, #"{"team":"web"}"#)
            #expect(off.status == 200 && off["team"] as? String == "web" && off["disabled"] as? Bool == true, "\(off.text)")
            for key in teamBound {
                let refused = try await api.whoami(key)
                #expect(refused.status == 401 && refused.code == "key_disabled", "\(refused.text)")
            }
            for key in untouched { #expect(try await api.whoami(key).status == 200, "a team-less key or another team's is not the team's") }
            let carolWebID = try IdentityFixture.id(carolWeb)
            let carolOwnID = try IdentityFixture.id(carolOwn)
            #expect(try await api.call(.get, "/v1/keys/\(carolWebID)", key: adminKey)["state"] as? String == "disabled")
            #expect(try await api.call(.get, "/v1/keys/\(carolOwnID)", key: adminKey)["state"] as? String == "active")
            let listed = try await api.call(.get, "/v1/keys?team=web", key: adminKey)
            #expect(!listed.items.isEmpty && listed.items.allSatisfy { $0["state"] as? String == "disabled" }, "\(listed.text)")

            let on = try await api.enable(alice, #"{"team":"web"}"#)
            #expect(on.status == 200 && on["team"] as? String == "web" && on["disabled"] as? Bool == false, "\(on.text)")
            for key in teamBound + untouched { #expect(try await api.whoami(key).status == 200) }

            let disabledRows = try await Self.rows(api, "team.disabled", admin: adminKey)
            #expect(disabledRows.count == 1, "\(disabledRows)")
            #expect(disabledRows.first.map { Self.names($0, "web") && $0["actor"] as? String == "alice" } == true, "\(disabledRows)")
            #expect(try await Self.rows(api, "team.enabled", admin: adminKey).count == 1)
        }
    }

    @Test func theBodyNamesExactlyOneKnownTarget() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            #expect(try await api.createIntegration(adminKey, scopes: ["projects:read"]).status == 201)
            let bad = [
                #"{"user":"alice","team":"web"}"#,
                #"{"integration":"web/deploy-bot","user":"alice"}"#,
                #"{}"#,
                #"{"reason":"unknown field"}"#,
                #"{"user":"alice","colour":"red"}"#,
                #"{"user":5}"#,
                "not json",
            ]
            for body in bad {
                let off = try await api.disable(adminKey, body)
                #expect(off.status == 400 && off.code == "invalid_request", "disable \(body): \(off.text)")
                let on = try await api.enable(adminKey, body)
                #expect(on.status == 400 && on.code == "invalid_request", "enable \(body): \(on.text)")
            }
            for body in [#"{"user":"nobody"}"#, #"{"integration":"web/nothing"}"#, #"{"integration":"nope/deploy-bot"}"#, #"{"team":"nope"}"#] {
                let off = try await api.disable(adminKey, body)
                #expect(off.status == 404 && off.code == "not_found", "disable \(body): \(off.text)")
                let on = try await api.enable(adminKey, body)
                #expect(on.status == 404 && on.code == "not_found", "enable \(body): \(on.text)")
            }
            let rows = try await api.call(.get, "/v1/audit?limit=200", key: adminKey).items
            let switches = rows.compactMap { $0["event"] as? String }.filter { event in event.hasSuffix(".disabled") || event.hasSuffix(".enabled") }
            #expect(switches.isEmpty, "a refused switch changes and audits nothing: \(switches)")
        }
    }
}
