import Foundation
import NIOConcurrencyHelpers

/// Refused requests, counted rather than stored one by one: a flood of bad keys, wrong passwords
/// or 429s becomes a few audit rows with counts, written every flush. At most `capacity` distinct
/// rows are kept between flushes; past that, rejections fold into one row per event and code with
/// the client `*`, so no load, however varied, adds more than `capacity + a few` rows per flush;
/// and counted rows are kept `retention` (a week), so the audit's share of refusals is bounded.
final class RejectionLog: Sendable {
    struct Key: Hashable {
        var event: String
        var code: String?
        var actor: String?
        var credential: String?
        var keyID: String?
        var target: String?
        var team: String?
        var client: String?
    }

    private struct Entry {
        var count: Int
        var last: Date
        var requestID: String?
    }

    let capacity: Int
    /// The events this log counts; their rows are pruned after `retention`.
    static let events = ["request.rejected", "request.throttled", "login.failed", "login.throttled", "key.replayed",
                         "key.checked", "key.introspected", "oidc.refused", "oidc.throttled"]
    static let retention: TimeInterval = 7 * 24 * 3600
    private let pending = NIOLockedValueBox<[Key: Entry]>([:])

    init(capacity: Int = 200) {
        self.capacity = capacity
    }

    private func key(_ event: AuditEvent) -> Key {
        Key(event: event.event, code: event.code, actor: Limits.clip(event.actor), credential: event.credential,
            keyID: event.keyID, target: Limits.clip(event.target), team: Limits.clip(event.team), client: event.client)
    }

    func record(_ event: AuditEvent) { record(event, requestID: { event.requestID }) }

    /// `requestID` is asked only for the first event of a row (the row keeps that one): for
    /// verifications it is a logger metadata read, on every request a gateway forwards.
    func record(_ event: AuditEvent, requestID: () -> String?) {
        var key = key(event)
        pending.withLockedValue { pending in
            if pending[key] == nil, pending.count >= capacity {
                key = Key(event: event.event, code: event.code, client: "*")
            }
            var entry = pending[key] ?? Entry(count: 0, last: event.at, requestID: requestID())
            entry.count += 1
            entry.last = max(entry.last, event.at)
            pending[key] = entry
        }
    }

    /// Everything counted since the last drain, as audit rows; the log starts empty again.
    func drain() -> [AuditEvent] {
        let entries = pending.withLockedValue { pending in
            defer { pending = [:] }
            return pending
        }
        return entries.map { key, entry in
            AuditEvent(at: entry.last, event: key.event, actor: key.actor, credential: key.credential, keyID: key.keyID, target: key.target, team: key.team,
                       code: key.code, client: key.client, requestID: entry.requestID, count: entry.count)
        }.sorted { ($0.at, $0.event, $0.client ?? "") < ($1.at, $1.event, $1.client ?? "") }
    }

    func flush(to repository: any KeyRepository) async throws {
        let rows = drain()
        guard !rows.isEmpty else { return }
        try await repository.append(rows)
    }
}
