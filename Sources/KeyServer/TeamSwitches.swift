import Foundation
import NIOConcurrencyHelpers

/// Which teams are switched off, for checks that name a team rather than a key: a member's
/// team-less key or JWT acting for a team (`/v1/check?team=`, introspection's `team`, a team's
/// projects). Kept in memory and forgotten on `.everything`, which every team switch publishes on
/// the change feed (and a replica's reconnecting listener too); read through to the database while
/// the feed is down, and at least every `maxAge` seconds whatever happens (as `KeyCache`).
final class TeamSwitches: Sendable {
    private struct State {
        var teams: Set<String> = []
        var loadedAt: Date?
    }

    let repository: any KeyRepository
    let feed: ChangeFeed
    let maxAge: TimeInterval
    private let state = NIOLockedValueBox(State())

    init(repository: any KeyRepository, maxAge: TimeInterval = 30) {
        self.repository = repository
        feed = repository.changes
        self.maxAge = maxAge
        feed.subscribe { [state] change in
            if case .everything = change { state.withLockedValue { $0.loadedAt = nil } }
        }
    }

    func isDisabled(_ team: String, now: Date) async throws -> Bool {
        let cached = state.withLockedValue { state -> Bool? in
            guard let loadedAt = state.loadedAt, now.timeIntervalSince(loadedAt) < maxAge, now >= loadedAt else { return nil }
            return state.teams.contains(team)
        }
        if let cached, feed.isLive { return cached }
        let generation = feed.generation
        let teams = Set(try await repository.disabledTeams().keys)
        // A switch that came while this read ran may not be in it: keep it only if none came.
        if feed.isLive && feed.generation == generation {
            state.withLockedValue { $0 = State(teams: teams, loadedAt: now) }
        }
        return teams.contains(team)
    }

    /// 401 `key_disabled` when `team` is switched off: what a key bound to the team gets.
    func check(_ team: String, now: Date) async throws {
        if try await isDisabled(team, now: now) {
            throw APIError(.keyDisabled, "team \(Limits.clip(team) ?? "") is switched off (dev-infra enable undoes it)")
        }
    }
}
