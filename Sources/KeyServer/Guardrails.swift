import DevInfraCore
import Foundation
import HTTPTypes
import NIOConcurrencyHelpers

/// A rate as a token bucket: `burst` tokens, refilled at `perSecond`.
struct BucketRate: Sendable, Equatable {
    var perSecond: Double
    var burst: Double

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    init(_ policy: RateLimitPolicy) {
        self.init(perSecond: policy.perSecond, burst: Double(policy.limit))
    }

    /// `RateLimit-Policy`'s window: how long an empty bucket takes to fill.
    var window: Int { max(1, Int((burst / perSecond).rounded(.up))) }
}

/// What `RateLimit-*` headers say about the bucket that will run dry first.
struct RateLimitStatus: Sendable, Equatable {
    var limit: Int
    var remaining: Int
    /// Seconds until the bucket is full again.
    var reset: Int
    var window: Int

    func apply(to headers: inout HTTPFields) {
        headers[.rateLimitLimit] = String(limit)
        headers[.rateLimitRemaining] = String(remaining)
        headers[.rateLimitReset] = String(reset)
        headers[.rateLimitPolicy] = "\(limit);w=\(window)"
    }
}

/// Token buckets whose rate is given with each take: a key's own limit, an integration's shared
/// one, or the server's default. In memory, per replica (as `RateLimiter`), bounded the same way:
/// when full, buckets that have refilled are dropped; if none has, a new name waits.
final class PolicyLimiter: Sendable {
    private struct Bucket { var tokens: Double; var at: Date; var rate: BucketRate }
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])
    let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    /// Takes a token; the status after, or the seconds to wait (nothing is taken).
    func take(_ name: String, _ rate: BucketRate, now: Date) -> (status: RateLimitStatus, wait: Int?) {
        buckets.withLockedValue { buckets in
            var bucket = buckets[name] ?? Bucket(tokens: rate.burst, at: now, rate: rate)
            if bucket.rate != rate {
                // A changed limit (PATCH) applies at once, without refunding what was spent.
                bucket.tokens = min(bucket.tokens, rate.burst)
                bucket.rate = rate
            }
            bucket.tokens = min(rate.burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.at)) * rate.perSecond)
            bucket.at = now
            var wait: Int?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
            } else {
                let seconds = ((1 - bucket.tokens) / rate.perSecond).rounded(.up)
                wait = seconds.isFinite && seconds < 86_400 ? max(1, Int(seconds)) : 86_400
            }
            if buckets[name] == nil && buckets.count >= capacity {
                buckets = buckets.filter { $0.value.tokens + max(0, now.timeIntervalSince($0.value.at)) * $0.value.rate.perSecond < $0.value.rate.burst }
                if buckets.count >= capacity { return (Self.status(bucket), 1) }
            }
            buckets[name] = bucket
            return (Self.status(bucket), wait)
        }
    }

    private static func status(_ bucket: Bucket) -> RateLimitStatus {
        let missing = bucket.rate.burst - bucket.tokens
        let reset = missing <= 0 ? 0 : Int((missing / bucket.rate.perSecond).rounded(.up))
        return RateLimitStatus(limit: Int(bucket.rate.burst), remaining: max(0, Int(bucket.tokens.rounded(.down))),
                               reset: min(reset, 86_400), window: bucket.rate.window)
    }
}

/// The guardrails every authenticated request passes, in order: the integration's shared rate
/// limit, the key's own (or the server default), then the key's quota. Shared by the API's
/// middleware and by `/v1/check` and `/v1/introspect` (a gateway's check is a use of the key).
struct Guardrails: Sendable {
    let limiter: PolicyLimiter
    let defaultRate: BucketRate
    /// The largest rate a key or integration may be given (the server's per-credential limit).
    let maximum: BucketRate
    let repository: any KeyRepository

    /// The status for `RateLimit-*` headers, or a 429 (`rate_limited`, `quota_exceeded`).
    func admit(_ principal: Principal, now: Date) async throws -> RateLimitStatus {
        var tightest: RateLimitStatus?
        if principal.user.kind == .integration, let shared = principal.user.rateLimit {
            let (status, wait) = limiter.take("integration:\(principal.user.id)", bucket(shared), now: now)
            if let wait { throw AuthMiddleware.tooMany("too many requests for integration \(principal.user.name)", wait) }
            tightest = status
        }
        let rate = principal.rateLimit.map(bucket) ?? defaultRate
        let (status, wait) = limiter.take(principal.bucket, rate, now: now)
        if let wait { throw AuthMiddleware.tooMany("too many requests for this credential", wait) }
        if let shared = tightest, shared.remaining < status.remaining { tightest = shared } else { tightest = status }
        if principal.hasQuota, let keyID = principal.keyID {
            try await consumeQuota(keyID, principal, now: now)
        }
        return tightest ?? status
    }

    /// Takes one request from the key's quota, if it has one; 429 `quota_exceeded` when spent.
    func consumeQuota(_ principal: Principal, now: Date) async throws {
        guard principal.hasQuota, let keyID = principal.keyID else { return }
        try await consumeQuota(keyID, principal, now: now)
    }

    private func consumeQuota(_ keyID: String, _ principal: Principal, now: Date) async throws {
        guard case .exceeded = try await repository.consumeQuota(keyID: keyID, now: now) else { return }
        var error = APIError(.quotaExceeded, "key \(keyID) has used its quota")
        if let end = principal.quotaPeriod?.windowEnd(now) {
            let wait = max(1, Int(end.timeIntervalSince(now).rounded(.up)))
            error = APIError(.quotaExceeded, "key \(keyID) has used its quota for this \(principal.quotaPeriod?.rawValue ?? "period"); it resets in \(wait) s")
            error.retryAfter = wait
        }
        throw error
    }

    /// A policy's bucket. A long window must not become a huge burst (a million a day is not a
    /// million at once): a bucket holds at most a minute of the server's rate.
    func bucket(_ policy: RateLimitPolicy) -> BucketRate {
        BucketRate(perSecond: policy.perSecond, burst: min(Double(policy.limit), max(maximum.burst, maximum.perSecond * 60)))
    }

    /// A rate a key or integration asks for, checked against the server's maximum.
    func check(_ policy: RateLimitPolicy?, field: String) throws {
        guard let policy else { return }
        guard policy.limit >= 1, policy.limit <= 1_000_000, policy.windowSeconds >= 1, policy.windowSeconds <= 86_400 else {
            throw APIError.invalidRequest("\(field) needs a limit from 1 to 1000000 and a window_seconds from 1 to 86400")
        }
        guard policy.perSecond <= maximum.perSecond + 1e-9 else {
            throw APIError.invalidRequest("\(field) \(policy.limit) per \(policy.windowSeconds) s is above the server's maximum of \(maximum.perSecond) a second")
        }

    }
}

extension HTTPField.Name {
    static let rateLimitLimit = Self("RateLimit-Limit")!
    static let rateLimitRemaining = Self("RateLimit-Remaining")!
    static let rateLimitReset = Self("RateLimit-Reset")!
    static let rateLimitPolicy = Self("RateLimit-Policy")!
}
