import Foundation

/// Each trusted issuer's key set, fetched once and kept for 10 minutes, so that an exchange costs
/// no round trip to the CI provider. Concurrent exchanges of one issuer that need its keys share a
/// single fetch. A token whose `kid` the kept set lacks (the provider rotated its key) makes one
/// early refetch, at most once per 30 seconds per issuer: a stream of made-up kids costs the
/// issuer two requests a minute, not one per token. A failed fetch is not retried for 5 seconds
/// (the `Retry-After` its 503 gives): an issuer that is down is not asked on every request.
actor OIDCKeyCache {
    typealias Fetch = @Sendable (_ issuer: String) async throws -> OIDCKeySet

    static let lifetime: TimeInterval = 600
    static let refetchInterval: TimeInterval = 30
    static let failureHold: TimeInterval = 5

    private struct Entry {
        var keys: OIDCKeySet
        var fetchedAt: Date
    }

    private var entries: [String: Entry] = [:]
    private var loading: [String: Task<OIDCKeySet, any Error>] = [:]
    /// When a kid the kept set lacked last made an issuer's keys be fetched again.
    private var refetchedAt: [String: Date] = [:]
    private var failedAt: [String: Date] = [:]
    private let clock: @Sendable () -> Date
    private let fetch: Fetch

    init(clock: @escaping @Sendable () -> Date, fetch: @escaping Fetch) {
        self.clock = clock
        self.fetch = fetch
    }

    /// The issuer's keys, holding `kid` if the issuer publishes it (or published it less than 30
    /// seconds before the last refetch). The caller looks `kid` up and refuses when it is absent.
    func keys(issuer: String, kid: String) async throws -> OIDCKeySet {
        let now = clock()
        if let entry = entries[issuer], now.timeIntervalSince(entry.fetchedAt) < Self.lifetime {
            if entry.keys.algorithm(for: kid) != nil { return entry.keys }
            if let last = refetchedAt[issuer], now.timeIntervalSince(last) < Self.refetchInterval, now >= last { return entry.keys }
            // Marked before the fetch: concurrent tokens with the new kid share this one refetch.
            refetchedAt[issuer] = now
        }
        return try await load(issuer)
    }

    /// The one fetch of `issuer` in flight, started if there is none.
    private func load(_ issuer: String) async throws -> OIDCKeySet {
        if let task = loading[issuer] { return try await task.value }
        if let failed = failedAt[issuer], clock().timeIntervalSince(failed) < Self.failureHold, clock() >= failed {
            throw OIDCFetcher.unreachable("the issuer could not be reached a moment ago; retry in a few seconds")
        }
        let fetch = fetch
        let task = Task { try await fetch(issuer) }
        loading[issuer] = task
        defer { loading[issuer] = nil }
        do {
            let keys = try await task.value
            let now = clock()
            entries[issuer] = Entry(keys: keys, fetchedAt: now)
            failedAt[issuer] = nil
            // Issuers no policy names any more are forgotten once their keys are stale.
            entries = entries.filter { now.timeIntervalSince($0.value.fetchedAt) < Self.lifetime }
            refetchedAt = refetchedAt.filter { now.timeIntervalSince($0.value) < Self.refetchInterval }
            return keys
        } catch {
            failedAt[issuer] = clock()
            throw error
        }
    }
}
