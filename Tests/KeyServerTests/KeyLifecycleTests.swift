import DevInfraCore
import Foundation
import Testing
@testable import KeyServer

@Suite struct KeyLifecycleTests {
    @Test func rotationKeepsTheOldKeyThroughTheGraceThenStopsIt() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let old = try #require(try await api.createKey(alice, name: "deploy", scopes: ["keys:read", "keys:write"], team: "web")["api_key"] as? String)
            let oldID = try APIKey.parse(old).keyID
            let rotated = try await api.call(.post, "/v1/keys/\(oldID)/rotate", key: old, body: #"{"grace_seconds": 3600}"#)
            #expect(rotated.status == 201)
            let new = try #require(rotated["api_key"] as? String)
            let view = try #require(rotated["key"] as? [String: Any])
            #expect(view["name"] as? String == "deploy")
            #expect(view["team"] as? String == "web")
            #expect(view["scopes"] as? [String] == ["keys:read", "keys:write"])
            #expect(view["rotated_from"] as? String == oldID)

            #expect(try await api.call(.get, "/v1/whoami", key: old).status == 200)
            #expect(try await api.call(.get, "/v1/whoami", key: new).status == 200)
            let oldView = try await api.call(.get, "/v1/keys/\(oldID)", key: new)
            #expect(oldView["state"] as? String == "rotating")
            #expect(oldView["rotated_to"] as? String == (view["id"] as? String))
            #expect(try await api.call(.post, "/v1/keys/\(oldID)/rotate", key: new).code == "key_not_active")

            server.clock.advance(3599)
            #expect(try await api.call(.get, "/v1/whoami", key: old).status == 200)
            server.clock.advance(2)
            #expect(try await api.call(.get, "/v1/whoami", key: old).code == "key_expired")
            #expect(try await api.call(.get, "/v1/whoami", key: new).status == 200)
        }
    }

    @Test func zeroGraceStopsTheOldKeyAtOnceAndTheDefaultIsSevenDays() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let a = try #require(try await api.createKey(adminKey, scopes: ["keys:read"])["api_key"] as? String)
            let rotated = try await api.call(.post, "/v1/keys/\(try APIKey.parse(a).keyID)/rotate", key: adminKey, body: #"{"grace_seconds":0}"#)
            #expect(rotated.status == 201)
            #expect(try await api.call(.get, "/v1/whoami", key: a).code == "key_expired")

            let b = try #require(try await api.createKey(adminKey, scopes: ["keys:read"])["api_key"] as? String)
            #expect(try await api.call(.post, "/v1/keys/\(try APIKey.parse(b).keyID)/rotate", key: adminKey).status == 201)
            server.clock.advance(7 * 24 * 3600 - 10)
            #expect(try await api.call(.get, "/v1/whoami", key: b).status == 200)
            server.clock.advance(20)
            #expect(try await api.call(.get, "/v1/whoami", key: b).code == "key_expired")
        }
    }

    @Test func revocationIsImmediateAndAudited() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let key = try #require(try await api.createKey(adminKey, scopes: ["keys:read"])["api_key"] as? String)
            let id = try APIKey.parse(key).keyID
            #expect(try await api.call(.get, "/v1/whoami", key: key).status == 200)
            let revoked = try await api.call(.delete, "/v1/keys/\(id)", key: adminKey, body: #"{"reason":"leaked in a log"}"#)
            #expect(revoked["state"] as? String == "revoked")
            #expect(revoked["revoke_reason"] as? String == "leaked in a log")
            #expect(revoked["revoked_by"] as? String == "root")
            #expect(try await api.call(.get, "/v1/whoami", key: key).code == "key_revoked")
            let audit = try await api.call(.get, "/v1/audit?key_id=\(id)", key: adminKey)
            let events = audit.items.compactMap { $0["event"] as? String }
            #expect(events.contains("key.created") && events.contains("key.revoked"))
            #expect(audit.items.contains { $0["code"] as? String == "key_revoked" })
        }
    }

    @Test func idempotentCreateRetriedMintsOneKey() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let body = #"{"name":"ci","scopes":["keys:read"]}"#
            let first = try await api.call(.post, "/v1/keys", key: adminKey, body: body, headers: [.init("Idempotency-Key")!: "retry-1"])
            let second = try await api.call(.post, "/v1/keys", key: adminKey, body: body, headers: [.init("Idempotency-Key")!: "retry-1"])
            #expect(first.status == 201 && second.status == 201)
            #expect(first["api_key"] as? String == second["api_key"] as? String)
            #expect(second.headers[.init("Idempotent-Replay")!] == "true")
            let conflict = try await api.call(.post, "/v1/keys", key: adminKey, body: #"{"name":"other","scopes":["keys:read"]}"#,
                                              headers: [.init("Idempotency-Key")!: "retry-1"])
            #expect(conflict.status == 422 && conflict.code == "idempotency_conflict")
            let list = try await api.call(.get, "/v1/keys", key: adminKey)
            #expect(list.items.filter { $0["name"] as? String == "ci" }.count == 1)
            let raw = try #require(first["api_key"] as? String)
            #expect(try await api.call(.get, "/v1/whoami", key: raw).status == 200)

            // A day later the record is gone: the same header now mints a new key.
            server.clock.advance(24 * 3600 + 1)
            await server.flushes.wait()
            let later = try await api.call(.post, "/v1/keys", key: adminKey, body: body, headers: [.init("Idempotency-Key")!: "retry-1"])
            #expect(later.status == 201)
            #expect(later["api_key"] as? String != raw)
        }
    }

    @Test func paginationIsBoundedAndWalksEveryKey() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            for index in 0..<7 { _ = try await api.createKey(adminKey, name: "k\(index)", scopes: ["keys:read"]) }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await api.call(.get, "/v1/keys?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), key: adminKey)
                #expect(page.items.count <= 3)
                seen += page.items.compactMap { $0["id"] as? String }
                cursor = page["next_cursor"] as? String
            } while cursor != nil
            #expect(seen.count == 8)
            #expect(Set(seen).count == 8)
            #expect(seen == seen.sorted())
            #expect(try await api.call(.get, "/v1/keys?limit=200", key: adminKey).items.count == 8)
            for bad in ["100000", "201", "0", "-1", "ten", "9223372036854775808"] {
                let reply = try await api.call(.get, "/v1/keys?limit=\(bad)", key: adminKey)
                #expect(reply.status == 400 && reply.code == "invalid_request", "limit=\(bad)")
            }
        }
    }

    @Test func lastUsedIsKeptWithoutAWritePerRequest() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let key = try #require(try await api.createKey(adminKey, scopes: ["keys:read"])["api_key"] as? String)
            let id = try APIKey.parse(key).keyID
            #expect(try await api.call(.get, "/v1/keys/\(id)", key: adminKey)["last_used_at"] == nil)
            server.clock.advance(5)
            _ = try await api.call(.get, "/v1/whoami", key: key)
            #expect(try await api.call(.get, "/v1/keys/\(id)", key: adminKey)["last_used_at"] as? String != nil)
        }
    }

    /// Read after a restart, so the in-memory overlay of pending uses cannot hide a missing write.
    @Test func lastUsedReachesTheDatabase() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        let id = NIOLockedKeys()
        try await server.run { api in
            let key = try #require(try await api.createKey(adminKey, scopes: ["keys:read"])["api_key"] as? String)
            id.append(try APIKey.parse(key).keyID)
            server.clock.advance(60)
            #expect(try await api.call(.get, "/v1/whoami", key: key).status == 200)
            await server.flushes.wait()
            let rows = try await server.admin.repository.key(id: try APIKey.parse(key).keyID)
            #expect(rows?.lastUsedAt == server.clock.read(), "the periodic flush wrote last_used_at")
            #expect(try await api.call(.get, "/v1/whoami", key: key).status == 200)
        }
        try await server.run { api in
            let shown = try await api.call(.get, "/v1/keys/\(id.all[0])", key: adminKey)
            #expect(shown["last_used_at"] as? String != nil, "the use survived the restart")
        }
    }

    @Test func aRestartKeepsEveryKey() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        let keys = NIOLockedKeys()
        try await server.run { api in
            for index in 0..<5 {
                keys.append(try #require(try await api.createKey(adminKey, name: "k\(index)", scopes: ["keys:read"])["api_key"] as? String))
            }
        }
        try await server.run { api throws in
            for key in keys.all {
                let reply = try await api.call(.get, "/v1/whoami", key: key)
                #expect(reply.status == 200)
            }
            #expect(try await api.call(.get, "/v1/whoami", key: adminKey).status == 200)
        }
    }
}

import NIOConcurrencyHelpers
final class NIOLockedKeys: Sendable {
    private let box = NIOLockedValueBox<[String]>([])
    func append(_ key: String) { box.withLockedValue { $0.append(key) } }
    var all: [String] { box.withLockedValue { $0 } }
}
