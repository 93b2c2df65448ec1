import DevInfraCore
import Foundation
import Testing

/// Every 401 reason code of DESIGN.md, produced by a real request to a real server.
@Suite struct AuthenticationTests {
    @Test func everyUnauthorizedReasonCode() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let none = try await api.call(.get, "/v1/whoami")
            #expect(none.status == 401 && none.code == "missing_credentials")
            #expect(none.headers[.wwwAuthenticate] == "Bearer realm=\"dev-infra\"")
            #expect(none.headers[.contentType] == "application/problem+json")

            let malformed = try await api.call(.get, "/v1/whoami", key: "dinf_short")
            #expect(malformed.status == 401 && malformed.code == "malformed_key")
            #expect(malformed.headers[.wwwAuthenticate]?.contains("error=\"invalid_token\"") == true)

            let unknown = try await api.call(.get, "/v1/whoami", key: APIKey.generate().rawValue)
            #expect(unknown.code == "unknown_key")

            // The right key id with a wrong secret is unknown_key, never more.
            let real = try APIKey.parse(adminKey)
            let forged = APIKey(keyID: real.keyID, secret: APIKey.generate().secret).rawValue
            #expect(try await api.call(.get, "/v1/whoami", key: forged).code == "unknown_key")

            let created = try await api.createKey(adminKey, scopes: ["keys:read"], expiresIn: 60)
            let shortLived = try #require(created["api_key"] as? String)
            #expect(try await api.call(.get, "/v1/whoami", key: shortLived).status == 200)
            server.clock.advance(61)
            #expect(try await api.call(.get, "/v1/whoami", key: shortLived).code == "key_expired")

            let victim = try #require(try await api.createKey(adminKey, scopes: ["keys:read"])["api_key"] as? String)
            let id = try APIKey.parse(victim).keyID
            #expect(try await api.call(.delete, "/v1/keys/\(id)", key: adminKey, body: #"{"reason":"leaked"}"#).status == 200)
            #expect(try await api.call(.get, "/v1/whoami", key: victim).code == "key_revoked")
            // A wrong secret for a revoked key still says nothing about it.
            let forgedRevoked = APIKey(keyID: id, secret: APIKey.generate().secret).rawValue
            #expect(try await api.call(.get, "/v1/whoami", key: forgedRevoked).code == "unknown_key")

            #expect(try await api.call(.get, "/v1/whoami", key: "not-a-jwt").code == "invalid_token")
            #expect(try await api.call(.get, "/v1/whoami", headers: [.authorization: "Basic abc"]).code == "invalid_token")
        }
    }

    @Test func passwordSignInGivesAShortLivedJWT() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let wrong = try await api.call(.post, "/v1/auth/token", body: #"{"username":"alice","password":"nope-nope"}"#)
            #expect(wrong.status == 401 && wrong.code == "invalid_credentials")
            let token = try await api.login("alice", "alice-password")
            #expect(token.split(separator: ".").count == 3)
            let me = try await api.call(.get, "/v1/whoami", key: token)
            #expect(me["user"] as? String == "alice")
            #expect(me["kind"] as? String == "jwt")
            #expect(me["teams"] as? [String] == ["web"])
            server.clock.advance(15 * 60 + 1)
            let expired = try await api.call(.get, "/v1/whoami", key: token)
            #expect(expired.code == "invalid_token")
            #expect(expired.status == 401)
        }
    }

    /// The scheme is case-insensitive (RFC 9110) and blanks around the credential are ignored;
    /// anything else before it is `invalid_token`.
    @Test func theBearerSchemeInAnyCaseWithBlanksAround() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            for header in ["Bearer \(adminKey)", "bearer \(adminKey)", "BEARER \t\(adminKey) ", "bEaReR   \(adminKey)\t"] {
                let reply = try await api.call(.get, "/v1/whoami", headers: [.authorization: header])
                #expect(reply.status == 200, "\(header.prefix(10))")
            }
            for header in ["Bearer", "Bearer\(adminKey)", "Basic \(adminKey)", "Bearerx \(adminKey)", "Token \(adminKey)"] {
                let reply = try await api.call(.get, "/v1/whoami", headers: [.authorization: header])
                #expect(reply.status == 401 && reply.code == "invalid_token", "\(header.prefix(10)): \(reply.text)")
            }
            let blank = try await api.call(.get, "/v1/whoami", headers: [.init("X-API-Key")!: "  \(adminKey)\t"])
            #expect(blank.status == 200)
        }
    }

    @Test func xAPIKeyHeaderWorksLikeBearer() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let reply = try await api.call(.get, "/v1/whoami", headers: [.init("X-API-Key")!: adminKey])
            #expect(reply.status == 200)
            #expect(reply["admin"] as? Bool == true)
        }
    }

    @Test func rateLimitIs429WithRetryAfter() async throws {
        let server = TestServer()
        server.rateLimit = 3
        let adminKey = try await server.seed()
        try await server.run { api in
            var statuses: [Int] = []
            for _ in 0..<6 { statuses.append(try await api.call(.get, "/v1/whoami", key: adminKey).status) }
            #expect(statuses.prefix(3).allSatisfy { $0 == 200 })
            let limited = try await api.call(.get, "/v1/whoami", key: adminKey)
            #expect(limited.status == 429 && limited.code == "rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            server.clock.advance(2)
            #expect(try await api.call(.get, "/v1/whoami", key: adminKey).status == 200)
        }
    }
}
