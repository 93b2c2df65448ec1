import Foundation
import NIOConcurrencyHelpers

/// Token buckets by name (a key, a user, a client address): `perSecond` requests a second, bursts
/// up to `burst`. In memory: each replica limits what it serves. The table holds at most
/// `capacity` buckets; when full, buckets that have refilled are forgotten (they hold nothing a
/// fresh one would not), and if none has, a new name is refused until one does, so a flood of
/// distinct names cannot grow memory without bound.
final class RateLimiter: Sendable {
    let perSecond: Double
    let burst: Double
    let capacity: Int
    private let buckets = NIOLockedValueBox<[String: (tokens: Double, at: Date)]>([:])
    /// When the full table was last swept: at most one sweep a second, so a flood of new names
    /// cannot make every request scan the whole table.
    private let lastSweep = NIOLockedValueBox<Date>(.distantPast)

    init(perSecond: Double, burst: Double, capacity: Int = 100_000) {
        self.perSecond = perSecond
        self.burst = burst
        self.capacity = capacity
    }

    /// nil when the request may go ahead (and a token is taken), else the seconds to wait.
    func take(_ bucket: String, now: Date) -> Int? {
        buckets.withLockedValue { buckets in
            guard var state = refilled(buckets, bucket, now) ?? admit(&buckets, now) else { return 1 }
            defer { buckets[bucket] = state }
            if state.tokens >= 1 {
                state.tokens -= 1
                return nil
            }
            return wait(state.tokens)
        }
    }

    /// nil when a request would go ahead now, else the seconds to wait; takes nothing.
    func wouldWait(_ bucket: String, now: Date) -> Int? {
        buckets.withLockedValue { buckets in
            guard let state = refilled(buckets, bucket, now) else { return nil }
            return state.tokens >= 1 ? nil : wait(state.tokens)
        }
    }

    private func refilled(_ buckets: [String: (tokens: Double, at: Date)], _ bucket: String, _ now: Date) -> (tokens: Double, at: Date)? {
        guard var state = buckets[bucket] else { return nil }
        let elapsed = max(0, now.timeIntervalSince(state.at))
        state.tokens = min(burst, state.tokens + elapsed * perSecond)
        state.at = now
        return state
    }

    private func admit(_ buckets: inout [String: (tokens: Double, at: Date)], _ now: Date) -> (tokens: Double, at: Date)? {
        if buckets.count >= capacity {
            let sweep = lastSweep.withLockedValue { last in
                guard now.timeIntervalSince(last) >= 1 else { return false }
                last = now
                return true
            }
            if sweep { buckets = buckets.filter { $0.value.tokens + max(0, now.timeIntervalSince($0.value.at)) * perSecond < burst } }
            guard buckets.count < capacity else { return nil }
        }
        return (burst, now)
    }

    private func wait(_ tokens: Double) -> Int {
        let seconds = ((1 - tokens) / perSecond).rounded(.up)
        return seconds.isFinite && seconds < 86_400 ? max(1, Int(seconds)) : 86_400
    }
}

/// A count of work in flight with a ceiling: `enter` says whether there is room.
final class ConcurrencyLimit: Sendable {
    let max: Int
    private let running = NIOLockedValueBox(0)

    init(max: Int) { self.max = max }

    func enter() -> Bool {
        running.withLockedValue { count in
            guard count < max else { return false }
            count += 1
            return true
        }
    }

    func leave() { running.withLockedValue { $0 -= 1 } }
}

/// Keeps `last_used_at` current without a database write per request: uses are collected in
/// memory and written in one transaction every few seconds (and on shutdown).
final class UsageRecorder: Sendable {
    private let pending = NIOLockedValueBox<[String: Date]>([:])

    func record(_ keyID: String, at: Date) {
        pending.withLockedValue { $0[keyID] = at }
    }

    /// The newest use not yet written, so reads are current between flushes.
    func pendingUse(of keyID: String) -> Date? { pending.withLockedValue { $0[keyID] } }

    /// Writes what is pending, and only then forgets it (unless a newer use came meanwhile): a
    /// read between the two still sees the use, from here or from the database.
    func flush(to repository: any KeyRepository) async throws {
        let batch = pending.withLockedValue { $0 }
        try await repository.recordUse(batch)
        pending.withLockedValue { pending in
            for (id, at) in batch where pending[id] == at { pending[id] = nil }
        }
    }
}
