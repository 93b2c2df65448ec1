import Foundation
import NIOConcurrencyHelpers

/// Whether the database answered the last time this replica asked: `/healthz` reports it
/// without a round trip of its own, and `/readyz` asks at most once a second, one ask at a time,
/// so probes (or anyone on the network) cannot turn into database load.
final class DatabaseHealth: Sendable {
    private struct State {
        var up = true
        var checkedAt: UInt64 = 0
        var checking = false
    }

    private let state = NIOLockedValueBox(State())
    static let recheckAfter: UInt64 = 1_000_000_000

    var isUp: Bool { state.withLockedValue { $0.up } }

    func set(up value: Bool) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLockedValue {
            $0.up = value
            $0.checkedAt = now
        }
    }

    /// Asks with `ping` unless an answer younger than a second exists or another ask is running;
    /// then that answer stands.
    func check(_ ping: () async throws -> Void) async -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        let ask = state.withLockedValue { state -> Bool in
            guard !state.checking, state.checkedAt == 0 || now &- state.checkedAt >= Self.recheckAfter else { return false }
            state.checking = true
            return true
        }
        guard ask else { return isUp }
        let up: Bool
        do {
            try await ping()
            up = true
        } catch {
            up = false
        }
        set(up: up)
        state.withLockedValue { $0.checking = false }
        return up
    }
}
