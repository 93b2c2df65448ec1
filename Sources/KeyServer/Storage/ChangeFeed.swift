import Foundation
import NIOConcurrencyHelpers

/// Changes that make a cached key record wrong: a key revoked or rotated today (and a changed
/// expiry, a demoted or deleted user, once the API can make those changes: `.user` is handled by
/// every cache already). Storage publishes them once committed; every `KeyCache` of the process hears them.
///
/// A feed is *live* while every change is sure to reach it. SQLite's and the in-memory store's
/// feeds are always live (every change goes through this process). PostgreSQL's is live only
/// while its `LISTEN` connection is up: when it drops, the feed says `everything` and goes dark,
/// and caches read through to the database until it is back (fail closed: revocation is never late).
public final class ChangeFeed: Sendable {
    public enum Change: Sendable, Equatable {
        case key(String)
        case user(Int64)
        /// Changes may have been missed: forget everything.
        case everything
    }

    private struct State {
        var live: Bool
        var subscribers: [@Sendable (Change) -> Void] = []
        /// Bumped on every change: a cache fills an entry only if no change came while it read.
        var generation: UInt64 = 0
        /// How many times the feed became live: a replica's listener reconnects show here.
        var connects = 0
        var echoes: [String: Echo] = [:]
    }

    private enum Echo {
        case expected, arrived
        case waiting(CheckedContinuation<Bool, Never>)
    }

    private let state: NIOLockedValueBox<State>

    public init(live: Bool) {
        state = NIOLockedValueBox(State(live: live))
    }

    public var isLive: Bool { state.withLockedValue { $0.live } }
    public var generation: UInt64 { state.withLockedValue { $0.generation } }
    public var connects: Int { state.withLockedValue { $0.connects } }

    public func subscribe(_ handler: @escaping @Sendable (Change) -> Void) {
        state.withLockedValue { $0.subscribers.append(handler) }
    }

    /// Delivers `change` to every subscriber; `token` wakes a `waitForEcho` of the same token.
    public func publish(_ change: Change, token: String? = nil) {
        let (handlers, waiter) = state.withLockedValue { state -> ([@Sendable (Change) -> Void], CheckedContinuation<Bool, Never>?) in
            state.generation &+= 1
            guard let token, let echo = state.echoes[token] else { return (state.subscribers, nil) }
            if case .waiting(let continuation) = echo {
                state.echoes[token] = nil
                return (state.subscribers, continuation)
            }
            state.echoes[token] = .arrived
            return (state.subscribers, nil)
        }
        handlers.forEach { $0(change) }
        waiter?.resume(returning: true)
    }

    /// The feed lost (`false`) or regained (`true`) its guarantee; either way caches forget
    /// everything, since changes may have come while nobody listened.
    public func setLive(_ live: Bool) {
        state.withLockedValue { state in
            state.live = live
            if live { state.connects += 1 }
        }
        publish(.everything)
    }

    /// Says that a change with this token is about to be published (before the commit that sends it).
    public func expectEcho(_ token: String) {
        state.withLockedValue { $0.echoes[token] = .expected }
    }

    /// Waits until `publish(_, token:)` with a token given to `expectEcho` arrives, or `timeout`
    /// passes: a replica that revokes waits for its own notification, which PostgreSQL sends to
    /// every listener at the same commit.
    /// True when the echo came, false when the wait timed out.
    @discardableResult
    public func waitForEcho(_ token: String, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let answer = self.state.withLockedValue { state -> Bool? in
                        switch state.echoes.removeValue(forKey: token) {
                        case .arrived: return true
                        case .expected:
                            state.echoes[token] = .waiting(continuation)
                            return nil
                        case .waiting, nil: return false  // never expected, or timed out already
                        }
                    }
                    if let answer { continuation.resume(returning: answer) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                let pending = self.state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
                    guard let echo = state.echoes.removeValue(forKey: token), case .waiting(let continuation) = echo else { return nil }
                    return continuation
                }
                pending?.resume(returning: false)
                return nil
            }
            var echoed = false
            for await result in group {
                if let result {
                    echoed = result
                    group.cancelAll()
                }
            }
            return echoed
        }
    }
}
