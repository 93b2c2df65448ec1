import DevInfraCore
import Foundation
import Testing
@testable import KeyServer

/// Per-key and per-integration rate limits (issue 11): a token bucket of `limit` tokens refilled
/// at limit/window a second, told in the IETF draft's headers (`RateLimit-Limit`, `-Remaining`,
/// `-Reset`: seconds until full, `-Policy`: `limit;w=window`) on every authenticated answer; an
/// integration's bucket is shared by all its keys; nothing may exceed `serve --rate-limit`.
@Suite struct RateLimitHeaderTests {
    typealias H = IdentityFixture

    @Test func aKeysOwnLimitIsToldInHeadersAndEnforced() async throws {
        let server = TestServer()
        _ = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let created = try await api.mintKey(alice, name: "slow", scopes: ["keys:read"], rateLimit: (2, 60))
            #expect(created.status == 201, "\(created.text)")
            let limit = created.keyView["rate_limit"] as? [String: Any]
            #expect(limit?["limit"] as? Int == 2 && limit?["window_seconds"] as? Int == 60, "\(created.text)")
            let key = try #require(created.apiKey)

            let first = try await api.whoami(key)
            #expect(first.status == 200)
            #expect(first.headers[H.rateLimitLimit] == "2" && first.headers[H.rateLimitRemaining] == "1", "\(first.headers)")
            #expect(first.headers[H.rateLimitPolicy] == "2;w=60")
            #expect(first.headers[H.rateLimitReset] == "30", "one token short of full, refilled at one per 30 s: \(first.headers)")
            let second = try await api.whoami(key)
            #expect(second.status == 200 && second.headers[H.rateLimitRemaining] == "0", "\(second.headers)")
            #expect(second.headers[H.rateLimitReset] == "60")
            let third = try await api.whoami(key)
            #expect(third.status == 429 && third.code == "rate_limited", "\(third.text)")
            #expect(third.headers[.retryAfter] == "30", "the next token comes in 30 s: \(third.headers)")

            server.clock.advance(29)
            #expect(try await api.whoami(key).status == 429)
            server.clock.advance(2)
            let refilled = try await api.whoami(key)
            #expect(refilled.status == 200 && refilled.headers[H.rateLimitRemaining] == "0", "\(refilled.headers)")

            let other = try #require(try await api.mintKey(alice, name: "other", scopes: ["keys:read"]).apiKey)
            #expect(try await api.whoami(other).status == 200, "another key has a bucket of its own")
        }
    }

    @Test func theServerDefaultIsToldTooAndCapsEveryLimit() async throws {
        let server = TestServer()
        server.rateLimit = 5
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.mintKey(alice, name: "plain", scopes: ["keys:read"]).apiKey)
            let reply = try await api.whoami(key)
            #expect(reply.status == 200)
            #expect(reply.headers[H.rateLimitLimit] == "5" && reply.headers[H.rateLimitRemaining] == "4", "\(reply.headers)")
            #expect(reply.headers[H.rateLimitPolicy] == "5;w=1" && reply.headers[H.rateLimitReset] == "1", "\(reply.headers)")
            server.clock.advance(1)
            let signedIn = try await api.whoami(alice)
            #expect(signedIn.headers[H.rateLimitLimit] == "5" && signedIn.headers[H.rateLimitPolicy] == "5;w=1", "a JWT's answers carry them too")

            // limit/window_seconds may not exceed the server's 5 a second (86400 a day is 1 a second;
            // its bucket holds at most a minute of the server's rate, `MachineIdentityHardeningTests`). Each request after a
            // second's refill, so the caller's own bucket never refuses one.
            let cases: [(limit: Int, window: Int, status: Int)] = [(300, 60, 201), (5, 1, 201), (301, 60, 400), (6, 1, 400),
                                                                   (0, 60, 400), (5, 0, 400), (5, 86_401, 400), (86_400, 86_400, 201)]
            for (limit, window, status) in cases {
                server.clock.advance(1)
                let created = try await api.mintKey(alice, scopes: ["keys:read"], rateLimit: (limit, window))
                #expect(created.status == status && (status == 201 || created.code == "invalid_request"), "\(limit)/\(window): \(created.text)")
            }
            server.clock.advance(1)
            let integration = try await api.createIntegration(adminKey, scopes: ["keys:read"], rateLimit: (6, 1))
            #expect(integration.status == 400 && integration.code == "invalid_request", "\(integration.text)")
            server.clock.advance(1)
            #expect(try await api.createIntegration(adminKey, scopes: ["keys:read"], rateLimit: (5, 1)).status == 201)
        }
    }

    @Test func anIntegrationsLimitIsSharedByAllItsKeys() async throws {
        let server = TestServer()
        _ = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let integration = try await api.createIntegration(alice, scopes: ["keys:read"], rateLimit: (3, 60))
            #expect(integration.status == 201, "\(integration.text)")
            #expect(integration.object("rate_limit")?["limit"] as? Int == 3 && integration.object("rate_limit")?["window_seconds"] as? Int == 60)
            let one = try #require(try await api.mintKey(alice, name: "one", scopes: ["keys:read"], integration: "web/deploy-bot").apiKey)
            let two = try #require(try await api.mintKey(alice, name: "two", scopes: ["keys:read"], integration: "web/deploy-bot").apiKey)
            let personal = try #require(try await api.mintKey(alice, name: "mine", scopes: ["keys:read"]).apiKey)

            let a = try await api.whoami(one)
            #expect(a.status == 200 && a.headers[H.rateLimitLimit] == "3" && a.headers[H.rateLimitRemaining] == "2", "\(a.headers)")
            #expect(a.headers[H.rateLimitPolicy] == "3;w=60", "the integration's bucket is the tightest")
            let b = try await api.whoami(two)
            #expect(b.status == 200 && b.headers[H.rateLimitRemaining] == "1", "the other key drew from the same bucket: \(b.headers)")
            let c = try await api.whoami(one)
            #expect(c.status == 200 && c.headers[H.rateLimitRemaining] == "0", "\(c.headers)")

            for key in [two, one] {
                let refused = try await api.whoami(key)
                #expect(refused.status == 429 && refused.code == "rate_limited" && refused.headers[.retryAfter] != nil, "\(refused.text)")
            }
            #expect(try await api.whoami(personal).status == 200, "alice's own key is not the integration's")

            // One token every 20 s, for whichever key asks first.
            server.clock.advance(21)
            #expect(try await api.whoami(two).status == 200)
            #expect(try await api.whoami(one).status == 429)

            // Three keys at once still share three tokens (after a full refill).
            server.clock.advance(60)
            let three = try #require(try await api.mintKey(alice, name: "three", scopes: ["keys:read"], integration: "web/deploy-bot").apiKey)
            async let x = api.parallel(3, .get, "/v1/whoami", key: one)
            async let y = api.parallel(3, .get, "/v1/whoami", key: three)
            let (fromOne, fromThree) = try await (x, y)
            let replies = fromOne + fromThree
            #expect(replies.filter { $0.status == 200 }.count == 3, "\(replies.map(\.status))")
            #expect(replies.filter { $0.status == 429 && $0.code == "rate_limited" }.count == 3)
        }
    }
}
