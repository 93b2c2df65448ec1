import DevInfraCore
import Foundation
import Testing
@testable import KeyServer

/// `PATCH /v1/keys/{id}` (issue 11): a key can be renamed and narrowed by whoever manages it;
/// anything that widens it (scopes, lifetime, rate) is refused, the rate to everyone but admins.
/// A change reaches the key's very next request, though the key is in the cache.
@Suite struct KeyPatchTests {
    @Test func renameAndNarrowAndTheNextRequestSeesIt() async throws {
        let server = TestServer()
        _ = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.mintKey(alice, name: "ci", scopes: ["keys:read", "projects:read"], team: "web").apiKey)
            let id = try IdentityFixture.id(key)

            let renamed = try await api.patchKey(alice, id, #"{"name":"deploy"}"#)
            #expect(renamed.status == 200 && renamed["name"] as? String == "deploy", "\(renamed.text)")
            #expect(renamed["scopes"] as? [String] == ["keys:read", "projects:read"], "a rename changes nothing else")
            #expect(renamed["id"] as? String == id && renamed["state"] as? String == "active")
            #expect(try await api.call(.get, "/v1/keys/\(id)", key: alice)["name"] as? String == "deploy", "stored, not only answered")

            // In the cache now: the narrowing below must still reach its next request.
            #expect(try await api.call(.get, "/v1/teams/web/projects", key: key).status == 200)

            let widened = try await api.patchKey(alice, id, #"{"scopes":["keys:read","projects:read","projects:write"]}"#)
            #expect(widened.status == 403 && widened.code == "insufficient_scope", "alice holds projects:write, the key does not: \(widened.text)")

            let narrowed = try await api.patchKey(alice, id, #"{"scopes":["keys:read"]}"#)
            #expect(narrowed.status == 200 && narrowed["scopes"] as? [String] == ["keys:read"], "\(narrowed.text)")
            let next = try await api.call(.get, "/v1/teams/web/projects", key: key)
            #expect(next.status == 403 && next.code == "insufficient_scope", "the key's next request lacks the scope: \(next.text)")
            #expect(try await api.whoami(key)["scopes"] as? [String] == ["keys:read"])

            let back = try await api.patchKey(alice, id, #"{"scopes":["keys:read","projects:read"]}"#)
            #expect(back.status == 403 && back.code == "insufficient_scope", "a scope once dropped cannot be given back")
            for body in [#"{"name":""}"#, #"{"name":"   "}"#, #"{"scopes":[]}"#, #"{"scopes":["sync:write"]}"#, #"{"name":5}"#] {
                let reply = try await api.patchKey(alice, id, body)
                #expect(reply.status == 400 && reply.code == "invalid_request", "\(body): \(reply.text)")
            }
        }
    }

    @Test func theExpiryOnlyComesSooner() async throws {
        let server = TestServer()
        _ = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.mintKey(alice, name: "e", scopes: ["keys:read"], expiresIn: 3600).apiKey)
            let id = try IdentityFixture.id(key)
            let start = server.clock.read()

            let shorter = try await api.patchKey(alice, id, #"{"expires_in":600}"#)
            #expect(shorter.status == 200, "\(shorter.text)")
            #expect(IdentityFixture.date(shorter["expires_at"]) == start.addingTimeInterval(600))

            let longer = try await api.patchKey(alice, id, #"{"expires_in":3600}"#)
            #expect(longer.status == 403 && longer.code == "expiry_exceeds_credential", "later than the current expiry: \(longer.text)")
            let removed = try await api.patchKey(alice, id, #"{"expires_in":null}"#)
            // null is "not given": the expiry cannot be removed, and a body that changes nothing is a 400.
            #expect(removed.status == 400 && removed.code == "invalid_request", "an expiry cannot be removed: \(removed.text)")
            let kept = try await api.call(.get, "/v1/keys/\(id)", key: alice)
            #expect(IdentityFixture.date(kept["expires_at"]) == start.addingTimeInterval(600), "refusals changed nothing: \(kept.text)")
            for bad in [#"{"expires_in":0}"#, #"{"expires_in":-5}"#, #"{"expires_in":"soon"}"#] {
                let reply = try await api.patchKey(alice, id, bad)
                #expect(reply.status == 400 && reply.code == "invalid_request", "\(bad): \(reply.text)")
            }

            // A key without an expiry may be given one; it then stops.
            let forever = try #require(try await api.mintKey(alice, name: "f", scopes: ["keys:read"]).apiKey)
            let foreverID = try IdentityFixture.id(forever)
            #expect(try await api.patchKey(alice, foreverID, #"{"expires_in":60}"#).status == 200)
            #expect(try await api.whoami(forever).status == 200)
            server.clock.advance(61)
            #expect(try await api.whoami(forever).code == "key_expired")
            #expect(try await api.whoami(key).status == 200, "the other key has 539 s left")

            // An expired key is no longer changed.
            let fresh = try await api.login("alice", "alice-password")
            let stale = try await api.patchKey(fresh, foreverID, #"{"name":"late"}"#)
            #expect(stale.status == 409 && stale.code == "key_not_active", "\(stale.text)")
        }
    }

    @Test func onlyAnAdminRaisesARate() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.mintKey(alice, name: "r", scopes: ["keys:read"], rateLimit: (10, 60)).apiKey)
            let id = try IdentityFixture.id(key)
            #expect(try await api.call(.get, "/v1/keys/\(id)", key: alice).object("rate_limit")?["limit"] as? Int == 10)

            let raised = try await api.patchKey(alice, id, #"{"rate_limit":{"limit":20,"window_seconds":60}}"#)
            #expect(raised.status == 403 && raised.code == "admin_required", "\(raised.text)")
            let faster = try await api.patchKey(alice, id, #"{"rate_limit":{"limit":10,"window_seconds":30}}"#)
            #expect(faster.status == 403 && faster.code == "admin_required", "the same limit in a shorter window is a higher rate")
            let lowered = try await api.patchKey(alice, id, #"{"rate_limit":{"limit":5,"window_seconds":60}}"#)
            #expect(lowered.status == 200 && lowered.object("rate_limit")?["limit"] as? Int == 5, "\(lowered.text)")
            #expect(lowered.object("rate_limit")?["window_seconds"] as? Int == 60)

            let byAdmin = try await api.patchKey(adminKey, id, #"{"rate_limit":{"limit":20,"window_seconds":60}}"#)
            #expect(byAdmin.status == 200 && byAdmin.object("rate_limit")?["limit"] as? Int == 20, "\(byAdmin.text)")
            let overServer = try await api.patchKey(adminKey, id, #"{"rate_limit":{"limit":1000000,"window_seconds":1}}"#)
            #expect(overServer.status == 400 && overServer.code == "invalid_request", "above serve --rate-limit: \(overServer.text)")
            for bad in [#"{"rate_limit":{"limit":0,"window_seconds":60}}"#, #"{"rate_limit":{"limit":5,"window_seconds":0}}"#,
                        #"{"rate_limit":{"limit":5,"window_seconds":86401}}"#, #"{"rate_limit":{"limit":5}}"#,
                        #"{"rate_limit":{"limit":5,"window_seconds":60,"burst":9}}"#] {
                let reply = try await api.patchKey(adminKey, id, bad)
                #expect(reply.status == 400 && reply.code == "invalid_request", "\(bad): \(reply.text)")
            }

            // From the server default (10,000 a second here) down is allowed, and takes effect.
            let fresh = try #require(try await api.mintKey(alice, name: "fresh", scopes: ["keys:read"]).apiKey)
            let freshID = try IdentityFixture.id(fresh)
            #expect(try await api.patchKey(alice, freshID, #"{"rate_limit":{"limit":1,"window_seconds":60}}"#).status == 200)
            #expect(try await api.whoami(fresh).status == 200)
            let limited = try await api.whoami(fresh)
            #expect(limited.status == 429 && limited.code == "rate_limited", "\(limited.text)")
        }
    }

    @Test func refusedPatches() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let bob = try await api.login("bob", "bob-password")
            let key = try #require(try await api.mintKey(alice, name: "mine", scopes: ["keys:read", "keys:write"]).apiKey)
            let id = try IdentityFixture.id(key)

            for body in [#"{"colour":"red"}"#, #"{"name":"x","owner":"bob"}"#, #"{"name":"x","team":"ops"}"#, "{}", "not json", "[]"] {
                let reply = try await api.patchKey(alice, id, body)
                #expect(reply.status == 400 && reply.code == "invalid_request", "\(body): \(reply.text)")
            }
            let empty = try await api.patchKey(alice, id, nil)
            #expect(empty.status == 400 && empty.code == "invalid_request", "no body at all: \(empty.text)")

            let others = try await api.patchKey(bob, id, #"{"name":"mine-now"}"#)
            #expect(others.status == 404 && others.code == "not_found", "another user's key is not found: \(others.text)")
            #expect(try await api.call(.get, "/v1/keys/\(id)", key: alice)["name"] as? String == "mine", "and it is unchanged")
            #expect(try await api.patchKey(alice, "nokey0000000", #"{"name":"x"}"#).status == 404)
            #expect(try await api.patchKey(alice, "short", #"{"name":"x"}"#).status == 400)

            let readOnly = try #require(try await api.mintKey(alice, name: "ro", scopes: ["keys:read"]).apiKey)
            let roID = try IdentityFixture.id(readOnly)
            let unscoped = try await api.patchKey(readOnly, roID, #"{"name":"x"}"#)
            #expect(unscoped.status == 403 && unscoped.code == "insufficient_scope", "changing a key needs keys:write: \(unscoped.text)")

            #expect(try await api.call(.delete, "/v1/keys/\(id)", key: adminKey).status == 200)
            let revoked = try await api.patchKey(alice, id, #"{"name":"again"}"#)
            #expect(revoked.status == 409 && revoked.code == "key_not_active", "\(revoked.text)")
            let revokedByAdmin = try await api.patchKey(adminKey, id, #"{"name":"again"}"#)
            #expect(revokedByAdmin.status == 409 && revokedByAdmin.code == "key_not_active", "not even for an admin")
        }
    }
}
