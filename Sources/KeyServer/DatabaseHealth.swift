import NIOConcurrencyHelpers

/// Whether the database answered the last time this replica asked: `/healthz` reports it
/// without a round trip of its own.
final class DatabaseHealth: Sendable {
    private let up = NIOLockedValueBox(true)
    var isUp: Bool { up.withLockedValue { $0 } }
    func set(up value: Bool) { up.withLockedValue { $0 = value } }
}
