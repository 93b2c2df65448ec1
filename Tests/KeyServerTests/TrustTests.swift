import DevInfraCore
import Foundation
import HTTPTypes
import Testing

/// The holes a review found, each shut: numbers bounded, replays re-checked, team-bound keys
/// confined to their team, keys in grace unable to outlive it, audit rows naming the credential.
@Suite struct TrustTests {
    @Test func hugeAndNegativeNumbersAreA400NotACrash() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            for value in ["9223372036854775807", "-9223372036854775808", "0", "-1", "315360001", "1e300", "\"10\""] {
                let reply = try await api.call(.post, "/v1/keys", key: adminKey, body: #"{"name":"n","scopes":["keys:read"],"expires_in":\#(value)}"#)
                #expect(reply.status == 400 && reply.code == "invalid_request", "expires_in \(value): \(reply.text)")
            }
            let ok = try await api.call(.post, "/v1/keys", key: adminKey, body: #"{"name":"n","scopes":["keys:read"],"expires_in":315360000}"#)
            #expect(ok.status == 201)
            let id = try #require((ok["key"] as? [String: Any])?["id"] as? String)
            for value in ["9223372036854775807", "-1", "315360001"] {
                let reply = try await api.call(.post, "/v1/keys/\(id)/rotate", key: adminKey, body: #"{"grace_seconds":\#(value)}"#)
                #expect(reply.status == 400 && reply.code == "invalid_request", "grace_seconds \(value): \(reply.text)")
            }
            #expect(try await api.call(.get, "/healthz").status == 200, "the server is still up")
        }
    }

    @Test func namesAndReasonsWithControlOrInvisibleCharactersAreRefused() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            for name in [#"a\u001b[2Jb"#, #"x\u202ey"#, #"\t"#, #"zero\u200bwidth"#, #"bell\u0007"#] {
                let reply = try await api.call(.post, "/v1/keys", key: adminKey, body: #"{"name":"\#(name)","scopes":["keys:read"]}"#)
                #expect(reply.status == 400 && reply.code == "invalid_request", "name \(name): \(reply.text)")
            }
            let ok = try await api.call(.post, "/v1/keys", key: adminKey, body: #"{"name":"  café déploiement  ","scopes":["keys:read"]}"#)
            #expect(ok.status == 201 && (ok["key"] as? [String: Any])?["name"] as? String == "café déploiement")
            #expect(ok.headers[.cacheControl] == "no-store", "an answer holding a key is not cached")
            let id = try #require((ok["key"] as? [String: Any])?["id"] as? String)
            let revoke = try await api.call(.delete, "/v1/keys/\(id)", key: adminKey, body: #"{"reason":"leaked\u001b]0;pwned\u0007"}"#)
            #expect(revoke.status == 400)
        }
    }

    @Test func theAuditFiltersByTheActingCredential() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let key = try #require(try await api.createKey(adminKey, name: "leaky", scopes: ["keys:read", "keys:write"])["api_key"] as? String)
            let keyID = try APIKey.parse(key).keyID
            _ = try await api.createKey(key, name: "minted-by-leaky", scopes: ["keys:read"])
            _ = try await api.createKey(adminKey, name: "minted-by-admin", scopes: ["keys:read"])
            let audit = try await api.call(.get, "/v1/audit?credential=\(keyID)", key: adminKey)
            #expect(audit.items.count == 1)
            #expect(audit.items.allSatisfy { $0["credential"] as? String == keyID })
        }
    }

    @Test func aReplayedCreateIsKeyedByTheCredentialAndRecheckedAndAudited() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let broad = try #require(try await api.createKey(alice, name: "broad", scopes: ["keys:read", "keys:write", "projects:write"])["api_key"] as? String)
            let narrow = try #require(try await api.createKey(alice, name: "narrow", scopes: ["keys:write"])["api_key"] as? String)
            let header: HTTPFields = [.init("Idempotency-Key")!: "shared-secret-header"]
            let body = #"{"name":"deploy","scopes":["projects:write"]}"#
            let first = try await api.call(.post, "/v1/keys", key: broad, body: body, headers: header)
            #expect(first.status == 201)
            // The narrower key of the same user knows the header: it gets its own refusal, not the key.
            let stolen = try await api.call(.post, "/v1/keys", key: narrow, body: body, headers: header)
            #expect(stolen.status == 403 && stolen.code == "insufficient_scope", "\(stolen.text)")
            #expect(stolen["api_key"] == nil)
            // The same credential retrying gets the same key, marked as a replay, and audited.
            let again = try await api.call(.post, "/v1/keys", key: broad, body: body, headers: header)
            #expect(again.status == 201 && again["api_key"] as? String == first["api_key"] as? String)
            #expect(again.headers[.init("Idempotent-Replay")!] == "true")
            let audit = try await api.call(.get, "/v1/audit?event=key.replayed", key: adminKey)
            #expect(audit.items.count == 1)
            #expect(audit.items.first?["credential"] as? String == (try APIKey.parse(broad).keyID))
        }
    }

    @Test func aReplayIsRefusedOnceTheCallerMayNoLongerHaveTheKey() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let key = try #require(try await api.createKey(adminKey, name: "ops", scopes: ["keys:read", "keys:write"])["api_key"] as? String)
            let id = try APIKey.parse(key).keyID
            let header: HTTPFields = [.init("Idempotency-Key")!: "retry-7"]
            let body = #"{"name":"forever","scopes":["keys:read"]}"#
            #expect(try await api.call(.post, "/v1/keys", key: key, body: body, headers: header).status == 201)
            // The key is rotated: in its grace it must not be handed a key that outlives the grace.
            #expect(try await api.call(.post, "/v1/keys/\(id)/rotate", key: adminKey, body: #"{"grace_seconds":3600}"#).status == 201)
            let replay = try await api.call(.post, "/v1/keys", key: key, body: body, headers: header)
            #expect(replay.status == 403 && replay.code == "expiry_exceeds_credential", "\(replay.text)")
            let fresh = try await api.call(.post, "/v1/keys", key: key, body: #"{"name":"fresh","scopes":["keys:read"]}"#)
            #expect(fresh.code == "expiry_exceeds_credential", "a key in grace cannot mint a key that outlives the grace")
            let within = try await api.call(.post, "/v1/keys", key: key, body: #"{"name":"short","scopes":["keys:read"],"expires_in":3000}"#)
            #expect(within.status == 201)
        }
    }

    @Test func aReplayedRotationIsRefusedOnceTheCallerIsInItsGrace() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let key = try #require(try await api.createKey(adminKey, name: "ops", scopes: ["keys:read", "keys:write"])["api_key"] as? String)
            let target = try #require(try await api.createKey(adminKey, name: "target", scopes: ["keys:read"])["api_key"] as? String)
            let targetID = try APIKey.parse(target).keyID
            let header: HTTPFields = [.init("Idempotency-Key")!: "rotate-once"]
            #expect(try await api.call(.post, "/v1/keys/\(targetID)/rotate", key: key, body: "{}", headers: header).status == 201)
            #expect(try await api.call(.post, "/v1/keys/\(try APIKey.parse(key).keyID)/rotate", key: adminKey,
                                       body: #"{"grace_seconds":600}"#).status == 201)
            // The rotation minted a key with no expiry: a caller whose own key now stops in ten
            // minutes must not be handed it again.
            let replay = try await api.call(.post, "/v1/keys/\(targetID)/rotate", key: key, body: "{}", headers: header)
            #expect(replay.status == 403 && replay.code == "expiry_exceeds_credential", "\(replay.text)")
        }
    }

    /// `dev-infra rotate` of the key in use: an expiring key renews itself for the lifetime it had,
    /// and a retry of that rotation gets the same new key even though the caller is now in grace.
    @Test func aKeyRotatingItselfIsRenewedAndItsRetryReplays() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let ci = try #require(try await api.createKey(adminKey, name: "ci", scopes: ["keys:read", "keys:write"], expiresIn: 86_400)["api_key"] as? String)
            let id = try APIKey.parse(ci).keyID
            server.clock.advance(3600)
            let header: HTTPFields = [.init("Idempotency-Key")!: "self-rotate"]
            let first = try await api.call(.post, "/v1/keys/\(id)/rotate", key: ci, body: "{}", headers: header)
            #expect(first.status == 201, "\(first.text)")
            let expires = try #require((first["key"] as? [String: Any])?["expires_at"] as? String)
            #expect(expires == ISO8601DateFormatter().string(from: server.clock.read().addingTimeInterval(86_400)))
            let retry = try await api.call(.post, "/v1/keys/\(id)/rotate", key: ci, body: "{}", headers: header)
            #expect(retry.status == 201 && retry["api_key"] as? String == first["api_key"] as? String, "\(retry.text)")
        }
    }

    @Test func concurrentCreatesWithOneIdempotencyKeyAllGetTheOneKey() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let replies = try await api.parallel(8, .post, "/v1/keys", key: adminKey, body: #"{"name":"once","scopes":["keys:read"]}"#,
                                                 headers: [.init("Idempotency-Key")!: "race"])
            #expect(replies.allSatisfy { $0.status == 201 }, "\(replies.map(\.text))")
            #expect(Set(replies.compactMap { $0["api_key"] as? String }).count == 1)
            let list = try await api.call(.get, "/v1/keys?all=true", key: adminKey)
            #expect(list.items.filter { $0["name"] as? String == "once" }.count == 1, "no orphaned key")
        }
    }

    @Test func aTeamBoundKeySeesAndActsOnItsTeamOnly() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let loose = try #require(try await api.createKey(alice, name: "loose", scopes: ["keys:read"])["api_key"] as? String)
            let looseID = try APIKey.parse(loose).keyID
            let webKey = try #require(try await api.createKey(alice, name: "web", scopes: ["keys:read", "keys:write"], team: "web")["api_key"] as? String)
            let sibling = try #require(try await api.createKey(alice, name: "sibling", scopes: ["keys:read"], team: "web")["api_key"] as? String)
            let siblingID = try APIKey.parse(sibling).keyID

            let listed = try await api.call(.get, "/v1/keys", key: webKey)
            #expect(Set(listed.items.compactMap { $0["team"] as? String }) == ["web"], "\(listed.text)")
            #expect(!listed.items.contains { $0["id"] as? String == looseID })
            #expect(try await api.call(.get, "/v1/keys/\(looseID)", key: webKey).status == 404)
            #expect(try await api.call(.delete, "/v1/keys/\(looseID)", key: webKey).status == 404)
            #expect(try await api.call(.post, "/v1/keys/\(looseID)/rotate", key: webKey).status == 404)
            #expect(try await api.call(.get, "/v1/whoami", key: loose).status == 200, "the team-less key was not touched")
            #expect(try await api.call(.get, "/v1/keys/\(siblingID)", key: webKey).status == 200)
            #expect(try await api.call(.delete, "/v1/keys/\(siblingID)", key: webKey).status == 200)

            // An admin key bound to a team is confined the same way, and cannot read the audit.
            let adminWeb = try #require(try await api.createKey(adminKey, name: "admin-web", scopes: ["keys:read", "admin", "audit:read"], team: "web")["api_key"] as? String)
            let all = try await api.call(.get, "/v1/keys?all=true", key: adminWeb)
            #expect(all.status == 200 && all.items.allSatisfy { $0["team"] as? String == "web" }, "\(all.text)")
            #expect(try await api.call(.get, "/v1/keys?team=ops", key: adminWeb).code == "team_mismatch")
            #expect(try await api.call(.get, "/v1/keys/\(looseID)", key: adminWeb).status == 404)
            #expect(try await api.call(.get, "/v1/audit", key: adminWeb).code == "team_mismatch")
        }
    }

    @Test func parallelRotationsLeaveExactlyOneSuccessor() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let key = try #require(try await api.createKey(adminKey, name: "hot", scopes: ["keys:read"])["api_key"] as? String)
            let id = try APIKey.parse(key).keyID
            let replies = try await api.parallel(6, .post, "/v1/keys/\(id)/rotate", key: adminKey)
            #expect(replies.filter { $0.status == 201 }.count == 1, "\(replies.map(\.text))")
            #expect(replies.filter { $0.status == 409 && $0.code == "key_not_active" }.count == 5)
            let list = try await api.call(.get, "/v1/keys?all=true", key: adminKey)
            #expect(list.items.filter { $0["rotated_from"] as? String == id }.count == 1)
        }
    }

    @Test func aRotationRacingARevocationNeverLeavesARevokedKeyWithANewSuccessor() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            for _ in 0..<12 {
                let key = try #require(try await api.createKey(adminKey, name: "r", scopes: ["keys:read"])["api_key"] as? String)
                let id = try APIKey.parse(key).keyID
                async let rotation = api.parallel(1, .post, "/v1/keys/\(id)/rotate", key: adminKey)
                async let revocation = api.parallel(1, .delete, "/v1/keys/\(id)", key: adminKey)
                let (rotated, revoked) = try await (rotation[0], revocation[0])
                #expect(revoked.status == 200)
                // The revocation's answer shows the row as it committed it. Revoked first: the
                // rotation must have lost. Rotated first: a revocation of a key in grace is allowed.
                if revoked["rotated_to"] == nil {
                    #expect(rotated.status == 409 && rotated.code == "key_not_active", "\(rotated.text)")
                } else {
                    #expect(rotated.status == 201)
                }
            }
        }
    }

    @Test func everyChangeNamesTheCredentialThatActed() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        let adminID = try APIKey.parse(adminKey).keyID
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let minted = try #require(try await api.createKey(alice, name: "m", scopes: ["keys:read"])["api_key"] as? String)
            let mintedID = try APIKey.parse(minted).keyID
            let rotated = try await api.call(.post, "/v1/keys/\(mintedID)/rotate", key: adminKey)
            let newID = try #require((rotated["key"] as? [String: Any])?["id"] as? String)
            let audit = try await api.call(.get, "/v1/audit?limit=200", key: adminKey).items
            let created = try #require(audit.first { $0["event"] as? String == "key.created" && $0["key_id"] as? String == mintedID })
            #expect(created["credential"] as? String == "jwt")
            #expect(created["actor"] as? String == "alice")
            let rotation = try #require(audit.first { $0["event"] as? String == "key.rotated" })
            #expect(rotation["credential"] as? String == adminID)
            #expect(rotation["key_id"] as? String == mintedID && rotation["target"] as? String == newID)
            let user = try #require(audit.first { $0["event"] as? String == "user.created" && $0["target"] as? String == "alice" })
            #expect(user["actor"] as? String == "operator")
        }
    }
}
