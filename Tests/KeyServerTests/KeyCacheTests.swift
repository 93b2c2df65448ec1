import Foundation
import NIOConcurrencyHelpers
import Testing
@testable import KeyServer

/// The per-replica cache of verified keys: bounded, dropped on every change, bypassed while its
/// change feed is not live, and never filled by a read that a change overtook.
@Suite struct KeyCacheTests {
    static let owner = User(id: 1, name: "alice", passwordHash: nil, isAdmin: false, teams: [], createdAt: Date(timeIntervalSince1970: 0))

    static func entry(_ id: String, owner: User = owner) -> KeyCache.Entry {
        (KeyRecord(keyID: id, secretHash: Data(), name: id, ownerID: owner.id, ownerName: owner.name, team: nil, scopes: [],
                   createdAt: Date(timeIntervalSince1970: 0)), owner)
    }

    /// Counts the loads that reached "the database".
    final class Loads: Sendable {
        let count = NIOLockedValueBox(0)
        func load(_ id: String, exists: Bool = true) -> KeyCache.Entry? {
            count.withLockedValue { $0 += 1 }
            return exists ? KeyCacheTests.entry(id) : nil
        }
        var total: Int { count.withLockedValue { $0 } }
    }

    @Test func aHitReadsNoDatabaseAndAChangeDropsTheEntry() async throws {
        let feed = ChangeFeed(live: true)
        let cache = KeyCache(capacity: 100, feed: feed)
        let loads = Loads()
        for _ in 0..<5 { _ = try await cache.entry("a") { loads.load("a") } }
        #expect(loads.total == 1)
        feed.publish(.key("a"))
        _ = try await cache.entry("a") { loads.load("a") }
        #expect(loads.total == 2)
        feed.publish(.user(Self.owner.id))
        _ = try await cache.entry("a") { loads.load("a") }
        #expect(loads.total == 3)
    }

    @Test func aFloodOfUnknownIdsEvictsNothingAndStoresNothing() async throws {
        let cache = KeyCache(capacity: 10, feed: ChangeFeed(live: true))
        let loads = Loads()
        _ = try await cache.entry("real") { loads.load("real") }
        for i in 0..<10_000 { _ = try await cache.entry("unknown\(i)") { loads.load("x", exists: false) } }
        #expect(cache.statistics.entries == 1)
        let before = loads.total
        _ = try await cache.entry("real") { loads.load("real") }
        #expect(loads.total == before, "the real entry survived the flood")
    }

    @Test func itStaysWithinItsCapacity() async throws {
        let cache = KeyCache(capacity: 100, feed: ChangeFeed(live: true))
        for i in 0..<10_000 { _ = try await cache.entry("k\(i)") { Self.entry("k\(i)") } }
        #expect(cache.statistics.entries <= 100)
    }

    @Test func whileTheFeedIsDownEveryRequestReadsThrough() async throws {
        let feed = ChangeFeed(live: true)
        let cache = KeyCache(capacity: 100, feed: feed)
        let loads = Loads()
        _ = try await cache.entry("a") { loads.load("a") }
        feed.setLive(false)
        for _ in 0..<3 { _ = try await cache.entry("a") { loads.load("a") } }
        #expect(loads.total == 4)
        feed.setLive(true)
        _ = try await cache.entry("a") { loads.load("a") }
        _ = try await cache.entry("a") { loads.load("a") }
        #expect(loads.total == 5, "cached again once live")
    }

    @Test func aReadOvertakenByAChangeIsNotCached() async throws {
        let feed = ChangeFeed(live: true)
        let cache = KeyCache(capacity: 100, feed: feed)
        let loads = Loads()
        // The revocation commits while this request is between its read and its insert.
        _ = try await cache.entry("a") {
            let stale = loads.load("a")
            feed.publish(.key("a"))
            return stale
        }
        _ = try await cache.entry("a") { loads.load("a") }
        #expect(loads.total == 2, "the stale read was not kept")
    }

    @Test func sizeZeroTurnsItOff() async throws {
        let cache = KeyCache(capacity: 0, feed: ChangeFeed(live: true))
        let loads = Loads()
        for _ in 0..<3 { _ = try await cache.entry("a") { loads.load("a") } }
        #expect(loads.total == 3)
    }

    @Test func anEchoWaitSaysWhetherItsTokenCame() async {
        let feed = ChangeFeed(live: true)
        feed.expectEcho("t1")
        feed.publish(.key("a"), token: "t1")
        #expect(await feed.waitForEcho("t1", timeout: .seconds(60)), "arrived before the wait")
        feed.expectEcho("t2")
        #expect(await feed.waitForEcho("t2", timeout: .milliseconds(50)) == false, "never came: timed out")
        feed.expectEcho("t3")
        async let waited = feed.waitForEcho("t3", timeout: .seconds(60))
        feed.publish(.key("b"), token: "t3")
        #expect(await waited, "came during (or just before) the wait")
        #expect(await feed.waitForEcho("never-expected", timeout: .seconds(60)) == false)
    }

    @Test func anEntryOlderThanItsMaxAgeIsReadAgain() async throws {
        let cache = KeyCache(capacity: 100, feed: ChangeFeed(live: true), maxAge: .zero)
        let loads = Loads()
        _ = try await cache.entry("a") { loads.load("a") }
        _ = try await cache.entry("a") { loads.load("a") }
        #expect(loads.total == 2)
        let lasting = KeyCache(capacity: 100, feed: ChangeFeed(live: true), maxAge: .seconds(3600))
        _ = try await lasting.entry("a") { loads.load("a") }
        _ = try await lasting.entry("a") { loads.load("a") }
        #expect(loads.total == 3)
    }
}
