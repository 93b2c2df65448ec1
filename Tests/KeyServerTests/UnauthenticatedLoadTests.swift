import DevInfraCore
import Foundation
import HTTPTypes
import Testing
@testable import KeyServer

/// Traffic without a valid credential is throttled before bcrypt, before any database read once an
/// address is flagged, and before any write; what it leaves in the audit is counted, not copied.
@Suite struct UnauthenticatedLoadTests {
    @Test func passwordGuessingMeets429BeforeBcryptRuns() async throws {
        let server = TestServer()
        server.limits.signInBurst = 5
        _ = try await server.seed()
        try await server.run { api in
            for _ in 0..<5 {
                let reply = try await api.call(.post, "/v1/auth/token", body: #"{"username":"alice","password":"wrong-guess"}"#)
                #expect(reply.status == 401 && reply.code == "invalid_credentials")
            }
            let throttled = try await api.call(.post, "/v1/auth/token", body: #"{"username":"alice","password":"alice-password"}"#)
            #expect(throttled.status == 429 && throttled.code == "rate_limited")
            #expect(Int(throttled.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(server.passwordChecks.withLockedValue { $0.count } == 5, "the throttled attempt never reached bcrypt")
        }
    }

    @Test func oneUsernameIsThrottledWhateverTheAddress() async throws {
        let server = TestServer()
        server.limits.signInNameBurst = 3
        _ = try await server.seed()
        try await server.run { api in
            for _ in 0..<3 { _ = try await api.call(.post, "/v1/auth/token", body: #"{"username":"bob","password":"nope-nope"}"#) }
            #expect(try await api.call(.post, "/v1/auth/token", body: #"{"username":"bob","password":"bob-password"}"#).status == 429)
            // Another name from the same address is not held back by bob's bucket.
            #expect(try await api.call(.post, "/v1/auth/token", body: #"{"username":"alice","password":"alice-password"}"#).status == 200)
        }
    }

    /// A throttled address trying ever new names leaves one counted row, not a row per name.
    @Test func throttledSignInsAreCountedPerAddressNotPerName() async throws {
        let server = TestServer()
        server.limits.signInBurst = 2
        let adminKey = try await server.seed()
        try await server.run { api in
            for index in 0..<52 {
                _ = try await api.call(.post, "/v1/auth/token", body: #"{"username":"name-\#(index)","password":"guess-guess"}"#)
            }
            #expect(server.passwordChecks.withLockedValue { $0.count } == 2)
            let audit = try await api.call(.get, "/v1/audit?event=login.throttled", key: adminKey)
            #expect(audit.items.count == 1)
            #expect(audit.items.first?["count"] as? Int == 50)
            #expect(audit.items.first?["actor"] == nil)
        }
    }

    @Test func anUnknownUserCostsOneBcryptLikeAKnownOne() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            _ = try await api.call(.post, "/v1/auth/token", body: #"{"username":"nobody-here","password":"whatever-1"}"#)
            _ = try await api.call(.post, "/v1/auth/token", body: #"{"username":"root","password":"whatever-1"}"#)
            let hashes = server.passwordChecks.withLockedValue { $0 }
            #expect(hashes.count == 2, "the unknown user and the password-less admin each ran bcrypt once")
            #expect(hashes.allSatisfy { $0.hasPrefix("$2") }, "against a real bcrypt hash of the same cost")
            #expect(hashes.allSatisfy { $0.hasPrefix("$2b$10$") || $0.hasPrefix("$2a$10$") || $0.hasPrefix("$2y$10$") })
        }
    }

    @Test func badKeysAreCountedNotStoredAndAFloodIsCutOffBeforeTheDatabase() async throws {
        let server = TestServer()
        server.limits.refusalBurst = 20
        server.limits.refusalsPerSecond = 1
        let adminKey = try await server.seed()
        try await server.run { api in
            let before = try await server.admin.repository.auditCount()
            var statuses: [Int] = []
            for _ in 0..<300 {
                statuses.append(try await api.call(.get, "/v1/whoami", key: APIKey.generate().rawValue).status)
            }
            #expect(statuses.prefix(20).allSatisfy { $0 == 401 })
            #expect(statuses.dropFirst(20).allSatisfy { $0 == 429 }, "the address is slowed once its refusals run out")
            #expect(try await api.call(.get, "/v1/whoami", key: adminKey).status == 200, "a valid key from the same address is served")
            let combining = "a" + String(repeating: "\u{301}", count: 30_000)
            _ = try await api.call(.post, "/v1/auth/token", body: #"{"username":"\#(combining)","password":"whatever-1"}"#)
            let long = String(repeating: "u", count: 65_000)
            _ = try await api.call(.post, "/v1/auth/token", body: #"{"username":"\#(long)","password":"whatever-1"}"#)
            server.clock.advance(30)
            #expect(try await api.call(.get, "/v1/whoami", key: adminKey).status == 200, "the address recovers as its bucket refills")
            let audit = try await api.call(.get, "/v1/audit?limit=200", key: adminKey)
            let rows = try await server.admin.repository.auditCount() - before
            #expect(rows <= 26, "rejections are rows with counts, not one row each: \(rows) rows")
            try await server.admin.repository.pruneAudit(events: ["request.rejected"], before: server.clock.read().addingTimeInterval(1))
            let pruned = try await server.admin.repository.audit(keyID: nil, actor: nil, credential: nil, event: "request.rejected", after: nil, limit: 200)
            #expect(pruned.isEmpty, "counted rows past their retention are pruned")
            #expect(try await server.admin.repository.audit(keyID: nil, actor: nil, credential: nil, event: "key.created", after: nil, limit: 200).count == 1,
                    "changes are never pruned")
            let counted = audit.items.filter { ["request.rejected", "request.throttled"].contains($0["event"] as? String ?? "") }
            #expect(counted.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == 300)
            let failed = audit.items.filter { $0["event"] as? String == "login.failed" }
            #expect(failed.count == 2)
            #expect(failed.allSatisfy { ($0["actor"] as? String ?? "").unicodeScalars.count <= 64 }, "long names are clipped, by scalars")
        }
    }

    @Test func repeated429sOfOneKeyAreOneCountedRow() async throws {
        let server = TestServer()
        server.rateLimit = 3
        let adminKey = try await server.seed()
        try await server.run { api in
            let key = try #require(try await api.createKey(adminKey, scopes: ["keys:read"])["api_key"] as? String)
            for _ in 0..<20 { _ = try await api.call(.get, "/v1/whoami", key: key) }
            let audit = try await api.call(.get, "/v1/audit?event=request.rejected", key: adminKey)
            let limited = audit.items.filter { $0["code"] as? String == "rate_limited" }
            #expect(limited.count == 1)
            #expect(limited.first?["count"] as? Int == 17)
        }
    }
}
