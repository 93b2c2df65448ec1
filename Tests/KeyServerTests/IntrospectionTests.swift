import DevInfraCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import KeyServer

/// `POST /v1/introspect` (RFC 7662): who may ask, what an active and an inactive answer hold, the
/// same-call scope and team checks, and a team-bound verifier confined to its team.
@Suite struct IntrospectionTests {
    static func form(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    static func introspect(_ api: API, as caller: String, _ pairs: [(String, String)]) async throws -> API.Reply {
        try await api.client.executeRequest(uri: "/v1/introspect", method: .post,
                                            headers: [.authorization: "Bearer \(caller)", .contentType: "application/x-www-form-urlencoded"],
                                            body: .init(string: form(pairs))).reply
    }

    @Test func anActiveKeyIsDescribedAndAnythingElseIsJustInactive() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let service = try #require(try await api.createKey(adminKey, name: "qa-tasks", scopes: ["keys:introspect"])["api_key"] as? String)
            let alice = try await api.login("alice", "alice-password")
            let created = try await api.createKey(alice, name: "ci", scopes: ["projects:read", "keys:read"], team: "web", expiresIn: 3600)
            let key = try #require(created["api_key"] as? String)
            let keyID = try APIKey.parse(key).keyID

            let active = try await Self.introspect(api, as: service, [("token", key)])
            #expect(active.status == 200 && active.headers[.cacheControl] == "no-store")
            #expect(active["active"] as? Bool == true && active["key_id"] as? String == keyID && active["username"] as? String == "alice")
            #expect(active["scope"] as? String == "keys:read projects:read" && active["team"] as? String == "web")
            #expect(active["kind"] as? String == "key" && active["token_type"] as? String == "Bearer" && active["state"] as? String == "active")
            let now = Int(server.clock.read().timeIntervalSince1970)
            #expect(active["iat"] as? Int == now && active["exp"] as? Int == now + 3600)
            #expect((active["sub"] as? String).flatMap(Int.init) != nil)

            let jwt = try await Self.introspect(api, as: service, [("token", alice), ("token_type_hint", "access_token")])
            #expect(jwt["active"] as? Bool == true && jwt["kind"] as? String == "jwt" && jwt["username"] as? String == "alice")
            #expect(jwt["key_id"] == nil && jwt["team"] == nil)

            #expect(try await api.call(.delete, "/v1/keys/\(keyID)", key: adminKey).status == 200)
            let revoked = try await Self.introspect(api, as: service, [("token", key)])
            #expect(revoked.status == 200 && revoked.text == #"{"active":false}"#, "no reason unless asked")
            let why = try await Self.introspect(api, as: service, [("token", key), ("include_reason", "true")])
            #expect(why.text == #"{"active":false,"reason":"key_revoked"}"#)

            var wrong = Array(key)
            wrong[20] = wrong[20] == "a" ? "b" : "a"
            let reasons = [(String(wrong), "malformed_key"), (APIKey.generate().rawValue, "unknown_key"), ("not-a-jwt", "invalid_token")]
            for (token, reason) in reasons {
                let reply = try await Self.introspect(api, as: service, [("token", token), ("include_reason", "true")])
                #expect(reply["active"] as? Bool == false && reply["reason"] as? String == reason, "\(reason): \(reply.text)")
            }
        }
    }

    @Test func onlyAKeysIntrospectCredentialMayAskAndItsOwnLimitIsNotThePerKeyOne() async throws {
        let server = TestServer()
        server.rateLimit = 3  // the clock stands still: a burst of 3 per key, no refill
        let adminKey = try await server.seed()
        try await server.run { api in
            let reader = try #require(try await api.createKey(adminKey, name: "r", scopes: ["keys:read"])["api_key"] as? String)
            let refused = try await Self.introspect(api, as: reader, [("token", reader)])
            #expect(refused.status == 403 && refused.code == "insufficient_scope" && refused["scope"] as? String == "keys:introspect")
            // A key without keys:introspect is held to its own 3, on this route too.
            for _ in 0..<2 { #expect(try await Self.introspect(api, as: reader, [("token", reader)]).status == 403) }
            #expect(try await Self.introspect(api, as: reader, [("token", reader)]).status == 429)
            #expect(try await Self.introspect(api, as: "", [("token", reader)]).status == 401)

            let service = try #require(try await api.createKey(adminKey, name: "svc", scopes: ["keys:introspect"])["api_key"] as? String)
            let checked = try #require(try await api.createKey(adminKey, name: "c", scopes: ["keys:read"])["api_key"] as? String)
            // The key under check has its 3; the service is not held to that for its own calls.
            var answers: [String] = []
            for _ in 0..<4 {
                let reply = try await Self.introspect(api, as: service, [("token", checked), ("include_reason", "true")])
                #expect(reply.status == 200)
                answers.append((reply["reason"] as? String) ?? "active")
            }
            #expect(answers == ["active", "active", "active", "rate_limited"])
            let limited = try await Self.introspect(api, as: service, [("token", checked), ("include_reason", "true")])
            #expect((limited["retry_after"] as? Int ?? 0) >= 1)
        }
    }

    @Test func scopeAndTeamAreCheckedInTheSameCallAndATeamBoundVerifierSeesItsTeamOnly() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let webKey = try #require(try await api.createKey(alice, name: "w", scopes: ["projects:read"], team: "web")["api_key"] as? String)
            let personal = try #require(try await api.createKey(alice, name: "p", scopes: ["projects:read"])["api_key"] as? String)
            let opsKey = try #require(try await api.createKey(adminKey, name: "o", scopes: ["projects:read"], team: "ops")["api_key"] as? String)
            let anywhere = try #require(try await api.createKey(adminKey, name: "svc", scopes: ["keys:introspect"])["api_key"] as? String)
            let webOnly = try #require(try await api.createKey(adminKey, name: "svc-web", scopes: ["keys:introspect"], team: "web")["api_key"] as? String)

            func reason(_ caller: String, _ pairs: [(String, String)]) async throws -> String {
                let reply = try await Self.introspect(api, as: caller, pairs + [("include_reason", "true")])
                return reply["reason"] as? String ?? (reply["active"] as? Bool == true ? "active" : reply.text)
            }
            #expect(try await reason(anywhere, [("token", webKey), ("scope", "projects:read"), ("team", "web")]) == "active")
            #expect(try await reason(anywhere, [("token", webKey), ("scope", "projects:read projects:write")]) == "insufficient_scope")
            #expect(try await reason(anywhere, [("token", webKey), ("team", "ops")]) == "team_mismatch")
            #expect(try await reason(anywhere, [("token", personal), ("team", "web")]) == "active", "a member's team-less key acts for her team")
            #expect(try await reason(anywhere, [("token", personal), ("team", "ops")]) == "team_mismatch")
            #expect(try await reason(anywhere, [("token", opsKey)]) == "active")
            #expect(try await reason(webOnly, [("token", webKey)]) == "active")
            #expect(try await reason(webOnly, [("token", personal)]) == "active")
            #expect(try await reason(webOnly, [("token", opsKey)]) == "team_mismatch", "a web-bound verifier is told nothing of ops keys")
            #expect(try await reason(webOnly, [("token", webKey), ("team", "ops")]) == "team_mismatch", "asking for another team cannot widen it")
        }
    }

    @Test func jsonBodiesAndTheCallersMistakesAre400s() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let service = try #require(try await api.createKey(adminKey, name: "svc", scopes: ["keys:introspect"])["api_key"] as? String)
            let json = try await api.call(.post, "/v1/introspect", key: service, body: #"{"token":"\#(service)","scope":"keys:introspect","include_reason":true}"#)
            #expect(json.status == 200 && json["active"] as? Bool == true)
            let bad: [(String, String, String)] = [
                ("application/json", #"{"token":""}"#, "empty token"),
                ("application/json", #"{"token":"x","extra":1}"#, "unknown field"),
                ("application/json", #"{"scope":"keys:read"}"#, "no token"),
                ("application/x-www-form-urlencoded", "token=a&token=b", "a parameter twice"),
                ("application/x-www-form-urlencoded", "token=%zz", "a malformed escape"),
                ("application/x-www-form-urlencoded", "token=a&scope=sync:write", "an unknown scope"),
                ("application/x-www-form-urlencoded", "token=a&team=", "an empty team"),
                ("application/x-www-form-urlencoded", "token=a&scope=+", "a blank scope"),
                ("application/json", #"{"token":"a","scope":" "}"#, "a blank JSON scope"),
                ("application/x-www-form-urlencoded", "token=a&include_reason=yes", "a bad flag"),
                ("text/plain", "token=a", "another content type"),
            ]
            let notUTF8 = try await api.client.executeRequest(uri: "/v1/introspect", method: .post,
                                                              headers: [.authorization: "Bearer \(service)", .contentType: "application/x-www-form-urlencoded"],
                                                              body: ByteBuffer(bytes: Array("token=".utf8) + [0xFF, 0xFE])).reply
            #expect(notUTF8.status == 400 && notUTF8.code == "invalid_request")
            for (type, body, what) in bad {
                let reply = try await api.client.executeRequest(uri: "/v1/introspect", method: .post,
                                                                headers: [.authorization: "Bearer \(service)", .contentType: type],
                                                                body: .init(string: body)).reply
                #expect(reply.status == 400 && reply.code == "invalid_request", "\(what): \(reply.text)")
            }
        }
    }

    @Test func introspectionCountsAsUseAndIsAuditedAsCountedRows() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let service = try #require(try await api.createKey(adminKey, name: "svc", scopes: ["keys:introspect"])["api_key"] as? String)
            let key = try #require(try await api.createKey(adminKey, name: "c", scopes: ["keys:read"])["api_key"] as? String)
            let keyID = try APIKey.parse(key).keyID
            for _ in 0..<3 { _ = try await Self.introspect(api, as: service, [("token", key)]) }
            #expect(try await api.call(.delete, "/v1/keys/\(keyID)", key: adminKey).status == 200)
            _ = try await Self.introspect(api, as: service, [("token", key)])
            let shown = try await api.call(.get, "/v1/keys/\(keyID)", key: adminKey)
            #expect(shown["last_used_at"] as? String != nil)
            let rows = try await api.call(.get, "/v1/audit?event=key.introspected&key_id=\(keyID)", key: adminKey).items
            let serviceID = try APIKey.parse(service).keyID
            #expect(rows.count == 2, "\(rows)")
            #expect(rows.contains { $0["count"] as? Int == 3 && $0["code"] == nil && $0["credential"] as? String == serviceID && $0["actor"] as? String == "root" })
            #expect(rows.contains { $0["count"] as? Int == 1 && $0["code"] as? String == "key_revoked" })
        }
    }
}

extension TestResponse {
    var reply: API.Reply { API.Reply(status: Int(status.code), headers: headers, text: String(buffer: body)) }
}
