import Foundation
import NIOConcurrencyHelpers

/// Verified key records and their owners, kept in memory so that an authenticated request reads
/// no database. Bounded by entries: two generations of at most `capacity / 2` each; a hit in the
/// older one moves the entry to the younger, and when the younger is full the older is dropped
/// (an approximate LRU with O(1) work per request and no linked list).
///
/// Correctness rests on the store's `ChangeFeed`:
/// - every change to a key or user drops the entries it touches;
/// - while the feed is not live (PostgreSQL's `LISTEN` connection is down) nothing is served from
///   the cache or added to it: every request reads through;
/// - an entry is added only if no change at all arrived while it was read, so a revocation that
///   commits between our read and our insert can never leave a stale entry behind.
///
/// Only keys that exist are cached: a flood of random key ids adds nothing, so it can neither
/// evict real entries nor fill memory (the refusal limiter throttles its database reads).
public final class KeyCache: Sendable {
    public typealias Entry = (key: KeyRecord, owner: User)

    private struct State {
        var young: [String: Entry] = [:]
        var old: [String: Entry] = [:]
        var hits = 0
        var misses = 0
        var invalidations = 0
    }

    /// 0 turns the cache off (every request reads the database).
    public let capacity: Int
    private let feed: ChangeFeed
    private let state = NIOLockedValueBox(State())

    public init(capacity: Int, feed: ChangeFeed) {
        self.capacity = max(0, capacity)
        self.feed = feed
        feed.subscribe { [weak self] change in self?.apply(change) }
    }

    /// The entry for `id` from memory, or from `load` (and remembered when that is safe).
    public func entry(_ id: String, load: () async throws -> Entry?) async throws -> Entry? {
        guard capacity > 0 else { return try await load() }
        let generation = feed.generation
        let live = feed.isLive
        if live, let hit = lookup(id) { return hit }
        guard let loaded = try await load() else { return nil }
        if live { store(id, loaded, ifGeneration: generation) }
        return loaded
    }

    public var statistics: (entries: Int, hits: Int, misses: Int, invalidations: Int) {
        state.withLockedValue { ($0.young.count + $0.old.count, $0.hits, $0.misses, $0.invalidations) }
    }

    private func lookup(_ id: String) -> Entry? {
        state.withLockedValue { state in
            if let entry = state.young[id] {
                state.hits += 1
                return entry
            }
            guard let entry = state.old.removeValue(forKey: id) else {
                state.misses += 1
                return nil
            }
            state.hits += 1
            insert(id, entry, &state)
            return entry
        }
    }

    private func store(_ id: String, _ entry: Entry, ifGeneration generation: UInt64) {
        state.withLockedValue { state in
            // Checked under our lock: a change published after this point finds the entry and drops it.
            guard feed.isLive, feed.generation == generation else { return }
            insert(id, entry, &state)
        }
    }

    private func insert(_ id: String, _ entry: Entry, _ state: inout State) {
        if state.young.count >= max(1, capacity / 2) {
            state.old = state.young
            state.young = [:]
            state.old.removeValue(forKey: id)
        }
        state.young[id] = entry
    }

    private func apply(_ change: ChangeFeed.Change) {
        state.withLockedValue { state in
            state.invalidations += 1
            switch change {
            case .key(let id):
                state.young.removeValue(forKey: id)
                state.old.removeValue(forKey: id)
            case .user(let userID):
                state.young = state.young.filter { $0.value.owner.id != userID }
                state.old = state.old.filter { $0.value.owner.id != userID }
            case .everything:
                state.young = [:]
                state.old = [:]
            }
        }
    }
}
