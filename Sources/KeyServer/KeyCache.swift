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
///   commits between our read and our insert can never leave a stale entry behind;
/// - an entry older than `maxAge` is read again: a change no feed carries (an edit in the database
///   by hand) is seen within that bound.
///
/// Only keys that exist are cached: a flood of random key ids adds nothing, so it can neither
/// evict real entries nor fill memory (the refusal limiter throttles its database reads).
public final class KeyCache: Sendable {
    public typealias Entry = (key: KeyRecord, owner: User)
    /// An entry and when it was read (monotonic nanoseconds).
    private typealias Stored = (entry: Entry, loadedAt: UInt64)

    private struct State {
        var young: [String: Stored] = [:]
        var old: [String: Stored] = [:]
        var hits = 0
        var misses = 0
        var invalidations = 0
    }

    /// 0 turns the cache off (every request reads the database).
    public let capacity: Int
    /// An entry is read again after this long whatever the feed says: a bound on how long a change
    /// the feed could not carry (an edit made in the database by hand) goes unseen.
    public let maxAge: Duration
    private let maxAgeNanoseconds: UInt64
    private let feed: ChangeFeed
    private let state = NIOLockedValueBox(State())

    public init(capacity: Int, feed: ChangeFeed, maxAge: Duration = .seconds(30)) {
        self.capacity = max(0, capacity)
        self.maxAge = maxAge
        let parts = maxAge.components
        maxAgeNanoseconds = UInt64(max(0, parts.seconds)) * 1_000_000_000 + UInt64(max(0, parts.attoseconds / 1_000_000_000))
        self.feed = feed
        feed.subscribe { [weak self] change in self?.apply(change) }
    }

    /// The entry for `id` from memory, or from `load` (and remembered when that is safe).
    public func entry(_ id: String, load: () async throws -> Entry?) async throws -> Entry? {
        guard capacity > 0 else { return try await load() }
        let generation = feed.generation
        let live = feed.isLive
        if live, let hit = lookup(id) { return hit }
        // The age counts from before the read: the entry is never older than it says.
        let loadedAt = DispatchTime.now().uptimeNanoseconds
        guard let loaded = try await load() else { return nil }
        if live { store(id, loaded, ifGeneration: generation, loadedAt: loadedAt) }
        return loaded
    }

    public var statistics: (entries: Int, hits: Int, misses: Int, invalidations: Int) {
        state.withLockedValue { ($0.young.count + $0.old.count, $0.hits, $0.misses, $0.invalidations) }
    }

    private func lookup(_ id: String) -> Entry? {
        let now = DispatchTime.now().uptimeNanoseconds
        return state.withLockedValue { state in
            if let stored = state.young[id] {
                guard now &- stored.loadedAt <= maxAgeNanoseconds else {
                    state.young.removeValue(forKey: id)
                    state.misses += 1
                    return nil
                }
                state.hits += 1
                return stored.entry
            }
            guard let stored = state.old.removeValue(forKey: id), now &- stored.loadedAt <= maxAgeNanoseconds else {
                state.misses += 1
                return nil
            }
            state.hits += 1
            insert(id, stored, &state)
            return stored.entry
        }
    }

    private func store(_ id: String, _ entry: Entry, ifGeneration generation: UInt64, loadedAt: UInt64) {
        state.withLockedValue { state in
            // Checked under our lock: a change published after this point finds the entry and drops it.
            guard feed.isLive, feed.generation == generation else { return }
            insert(id, (entry, loadedAt), &state)
        }
    }

    private func insert(_ id: String, _ entry: Stored, _ state: inout State) {
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
                state.young = state.young.filter { $0.value.entry.owner.id != userID }
                state.old = state.old.filter { $0.value.entry.owner.id != userID }
            case .everything:
                state.young = [:]
                state.old = [:]
            }
        }
    }
}
