import DevInfraCore
import Foundation
import Testing
@testable import KeyServer

/// Key quotas (issue 11): requests a UTC day, a UTC month or in all, counted atomically (never
/// more successes than the limit, however many arrive at once), answered 429 `quota_exceeded`
/// with the seconds to the next window (none for `total`), reset by an admin only.
/// The test clock starts at 2027-01-15T08:00:00Z.
@Suite struct QuotaTests {
    static func quota(_ api: API, _ id: String, as key: String) async throws -> [String: Any] {
        try await api.call(.get, "/v1/keys/\(id)", key: key).object("quota") ?? [:]
    }

    @Test func aTotalQuotaStopsTheKeyWithoutRetryAfterAndAnAdminResetsIt() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let created = try await api.mintKey(alice, name: "q", scopes: ["keys:read"], quota: (3, "total"))
            #expect(created.status == 201, "\(created.text)")
            let key = try #require(created.apiKey)
            let id = try IdentityFixture.id(key)
            let shown = created.keyView["quota"] as? [String: Any] ?? [:]
            #expect(shown["limit"] as? Int == 3 && shown["period"] as? String == "total" && shown["used"] as? Int == 0, "\(created.text)")
            #expect(IdentityFixture.isNull(shown["resets_at"]), "a total quota never resets by itself")

            for n in 1...3 { #expect(try await api.whoami(key).status == 200, "request \(n)") }
            let spent = try await api.whoami(key)
            #expect(spent.status == 429 && spent.code == "quota_exceeded", "\(spent.text)")
            #expect(spent.headers[.retryAfter] == nil, "waiting does not help a total quota")
            #expect(try await api.whoami(key).code == "quota_exceeded")
            #expect(try await Self.quota(api, id, as: alice)["used"] as? Int == 3, "refused requests are not counted as used")

            server.clock.advance(40 * 24 * 3600)
            let fresh = try await api.login("alice", "alice-password")
            #expect(try await api.whoami(key).code == "quota_exceeded", "time does not reset a total quota")

            let byOwner = try await api.patchKey(fresh, id, #"{"reset_quota":true}"#)
            #expect(byOwner.status == 403 && byOwner.code == "admin_required", "\(byOwner.text)")
            #expect(try await api.whoami(key).code == "quota_exceeded")

            let reset = try await api.patchKey(adminKey, id, #"{"reset_quota":true}"#)
            #expect(reset.status == 200 && reset.object("quota")?["used"] as? Int == 0, "\(reset.text)")
            #expect(reset.object("quota")?["limit"] as? Int == 3, "a reset keeps the limit")
            #expect(try await api.whoami(key).status == 200, "usable again")
            #expect(try await Self.quota(api, id, as: adminKey)["used"] as? Int == 1)
        }
    }

    @Test func aDayQuotaTellsTheWaitToUTCMidnightAndStartsAgainThere() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.mintKey(alice, name: "d", scopes: ["keys:read"], quota: (2, "day")).apiKey)
            let id = try IdentityFixture.id(key)
            let start = server.clock.read()
            let midnight = IdentityFixture.nextUTCMidnight(after: start)
            let wait = Int(midnight.timeIntervalSince(start))
            #expect(wait == 16 * 3600, "the fixture starts at 08:00 UTC")

            #expect(try await api.whoami(key).status == 200)
            #expect(try await api.whoami(key).status == 200)
            let spent = try await api.whoami(key)
            #expect(spent.status == 429 && spent.code == "quota_exceeded", "\(spent.text)")
            #expect(Int(spent.headers[.retryAfter] ?? "") == wait, "Retry-After is the time to the next UTC midnight: \(spent.headers)")
            let quota = try await Self.quota(api, id, as: alice)
            #expect(quota["used"] as? Int == 2 && quota["period"] as? String == "day", "\(quota)")
            #expect(IdentityFixture.date(quota["resets_at"]) == midnight, "\(quota)")

            server.clock.advance(TimeInterval(wait - 1))
            let lastSecond = try await api.whoami(key)
            #expect(lastSecond.code == "quota_exceeded" && Int(lastSecond.headers[.retryAfter] ?? "") == 1, "\(lastSecond.headers)")
            server.clock.advance(2)
            #expect(try await api.whoami(key).status == 200, "a new UTC day, a new quota")
            let next = try await Self.quota(api, id, as: adminKey)
            #expect(next["used"] as? Int == 1, "\(next)")
            #expect(IdentityFixture.date(next["resets_at"]) == midnight.addingTimeInterval(86_400), "\(next)")
            #expect(try await api.whoami(key).status == 200)
            #expect(try await api.whoami(key).code == "quota_exceeded")
        }
    }

    @Test func aMonthQuotaResetsOnTheFirstOfTheNextUTCMonth() async throws {
        let server = TestServer()
        _ = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.mintKey(alice, name: "m", scopes: ["keys:read"], quota: (1, "month")).apiKey)
            let id = try IdentityFixture.id(key)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
            let nextMonth = try #require(calendar.dateInterval(of: .month, for: server.clock.read())?.end)
            #expect(try await api.whoami(key).status == 200)
            let spent = try await api.whoami(key)
            #expect(spent.code == "quota_exceeded", "\(spent.text)")
            #expect(Int(spent.headers[.retryAfter] ?? "") == Int(nextMonth.timeIntervalSince(server.clock.read())), "\(spent.headers)")
            let quota = try await Self.quota(api, id, as: alice)
            #expect(IdentityFixture.date(quota["resets_at"]) == nextMonth, "\(quota)")
        }
    }

    @Test func twentyAtOnceAgainstAQuotaOfFiveYieldExactlyFive() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.mintKey(alice, name: "race", scopes: ["keys:read"], quota: (5, "total")).apiKey)
            let id = try IdentityFixture.id(key)
            let replies = try await api.parallel(20, .get, "/v1/whoami", key: key)
            #expect(replies.count == 20)
            #expect(replies.filter { $0.status == 200 }.count == 5, "\(replies.map(\.status))")
            #expect(replies.filter { $0.status == 429 && $0.code == "quota_exceeded" }.count == 15, "\(replies.map(\.text))")
            #expect(try await Self.quota(api, id, as: adminKey)["used"] as? Int == 5)
        }
    }

    @Test func onlyAnAdminLoosensAQuota() async throws {
        let server = TestServer()
        let adminKey = try await server.seedWithTeamAdmin()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let key = try #require(try await api.mintKey(alice, name: "q", scopes: ["keys:read"], quota: (10, "day")).apiKey)
            let id = try IdentityFixture.id(key)

            let lower = try await api.patchKey(alice, id, #"{"quota":{"limit":5,"period":"day"}}"#)
            #expect(lower.status == 200 && lower.object("quota")?["limit"] as? Int == 5, "\(lower.text)")
            let higher = try await api.patchKey(alice, id, #"{"quota":{"limit":20,"period":"day"}}"#)
            #expect(higher.status == 403 && higher.code == "admin_required", "\(higher.text)")
            let otherPeriod = try await api.patchKey(alice, id, #"{"quota":{"limit":5,"period":"month"}}"#)
            #expect(otherPeriod.status == 403 && otherPeriod.code == "admin_required", "another period is not a lower limit: \(otherPeriod.text)")
            let byAdmin = try await api.patchKey(adminKey, id, #"{"quota":{"limit":50,"period":"month"}}"#)
            #expect(byAdmin.status == 200 && byAdmin.object("quota")?["period"] as? String == "month", "\(byAdmin.text)")

            // A key with no quota may be given one by its owner: that only takes away.
            let open = try #require(try await api.mintKey(alice, name: "open", scopes: ["keys:read"]).apiKey)
            let openID = try IdentityFixture.id(open)
            let openView = try await api.call(.get, "/v1/keys/\(openID)", key: alice)
            #expect(openView.status == 200 && IdentityFixture.isNull(openView["quota"]), "\(openView.text)")
            let capped = try await api.patchKey(alice, openID, #"{"quota":{"limit":1,"period":"total"}}"#)
            #expect(capped.status == 200 && capped.object("quota")?["limit"] as? Int == 1, "\(capped.text)")
            #expect(try await api.whoami(open).status == 200)
            #expect(try await api.whoami(open).code == "quota_exceeded", "the new quota applies at once")

            for bad in [#"{"quota":{"limit":0,"period":"day"}}"#, #"{"quota":{"limit":5,"period":"week"}}"#, #"{"quota":{"limit":5}}"#,
                        #"{"quota":{"limit":5,"period":"day","used":0}}"#, #"{"quota":{"limit":-1,"period":"total"}}"#, #"{"reset_quota":"yes"}"#] {
                let reply = try await api.patchKey(adminKey, id, bad)
                #expect(reply.status == 400 && reply.code == "invalid_request", "\(bad): \(reply.text)")
            }
            let createdWithUsed = try await api.call(.post, "/v1/keys", key: alice,
                                                     body: #"{"name":"u","scopes":["keys:read"],"quota":{"limit":5,"period":"day","used":4}}"#)
            #expect(createdWithUsed.status == 400 && createdWithUsed.code == "invalid_request", "used is output only: \(createdWithUsed.text)")
        }
    }
}
