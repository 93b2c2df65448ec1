import Foundation
import NIOConcurrencyHelpers

/// A token bucket per key (or per user for JWTs): `perSecond` requests a second, bursts up to
/// `burst`. In memory: each replica limits what it serves.
final class RateLimiter: Sendable {
    let perSecond: Double
    let burst: Double
    private let buckets = NIOLockedValueBox<[String: (tokens: Double, at: Date)]>([:])

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// nil when the request may go ahead, else the seconds to wait.
    func take(_ bucket: String, now: Date) -> Int? {
        buckets.withLockedValue { buckets in
            var state = buckets[bucket] ?? (burst, now)
            state.tokens = min(burst, state.tokens + now.timeIntervalSince(state.at) * perSecond)
            state.at = now
            defer { buckets[bucket] = state }
            if state.tokens >= 1 {
                state.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - state.tokens) / perSecond).rounded(.up)))
        }
    }
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

    func flush(to repository: any KeyRepository) async throws {
        let batch = pending.withLockedValue { pending in
            defer { pending = [:] }
            return pending
        }
        try await repository.recordUse(batch)
    }
}
