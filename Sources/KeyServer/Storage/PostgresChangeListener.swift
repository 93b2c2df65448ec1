import Foundation
import Logging
import PostgresNIO

/// Hears the changes every replica makes: one dedicated connection `LISTEN`s on the channel that
/// revocations and rotations `NOTIFY` in their transactions, and publishes what it hears to the
/// change feed. The feed is live only while the `LISTEN` stands; when the connection drops the
/// feed goes dark (caches read through) until a new connection listens again.
struct PostgresChangeListener: Sendable {
    static let channel = "dev_infra_changes"
    /// How an operator (or a test) tells the listening connection from the pool's in pg_stat_activity.
    static let applicationName = "dev-infra-server listener"
    static let firstRetryDelay = Duration.milliseconds(100)
    static let maximumRetryDelay = Duration.seconds(2)
    /// A connection that silently stopped answering (a partition, a frozen server) ends no
    /// notification stream by itself; a query on it every second, answered within two, finds out.
    /// Meanwhile the feed may miss changes; `KeyCache.maxAge` bounds how long that could matter.
    static let heartbeatInterval = Duration.seconds(1)
    static let heartbeatTimeout = Duration.seconds(2)

    let settings: PostgresSettings
    let changes: ChangeFeed
    let logger: Logger

    /// What a change's `NOTIFY` carries: `key:<id> <token>` or `user:<id> <token>`. The token
    /// lets the replica that made the change recognize its own notification (`waitForEcho`).
    static func payload(_ change: ChangeFeed.Change, token: String) -> String {
        switch change {
        case .key(let id): "key:\(id) \(token)"
        case .user(let id): "user:\(id) \(token)"
        case .everything: "everything \(token)"
        }
    }

    /// The change a payload names; anything unknown is `everything` (forgetting too much is safe).
    static func change(fromPayload payload: String) -> (change: ChangeFeed.Change, token: String?) {
        let parts = payload.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        let subject = parts.first ?? ""
        let token = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
        if subject.hasPrefix("key:"), subject.count > "key:".count {
            return (.key(String(subject.dropFirst("key:".count))), token)
        }
        if subject.hasPrefix("user:"), let id = Int64(subject.dropFirst("user:".count)) {
            return (.user(id), token)
        }
        return (.everything, nil)
    }

    /// Listens until the task is cancelled, reconnecting after 100 ms, doubling up to 2 s
    /// (back to 100 ms once a `LISTEN` has stood).
    func run() async {
        var delay = Self.firstRetryDelay
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            let failure = await listenOnce(connectionID: attempt)
            if changes.isLive {
                changes.setLive(false)
                delay = Self.firstRetryDelay
            }
            if Task.isCancelled { break }
            logger.warning("change feed: not listening for changes; retrying", metadata: [
                "error": "\(PostgresRepository.summary(failure))", "retry_in": "\(delay)",
            ])
            do { try await Task.sleep(for: delay) } catch { break }
            delay = min(delay * 2, Self.maximumRetryDelay)
        }
        if changes.isLive { changes.setLive(false) }
    }

    private struct Ended: Error, CustomStringConvertible {
        var description: String { "the notification stream ended" }
    }

    private struct Distrusted: Error, CustomStringConvertible {
        var description: String { "a notification was lost; listening again" }
    }

    /// One connection's life: connect, `LISTEN`, deliver until something fails. Returns why it ended.
    private func listenOnce(connectionID: Int) async -> any Error {
        let connection: PostgresConnection
        do {
            let configuration = try settings.connectionConfiguration(applicationName: Self.applicationName)
            connection = try await PostgresConnection.connect(configuration: configuration, id: connectionID, logger: logger)
        } catch {
            return error
        }
        var failure: any Error = Ended()
        do {
            try await connection.listen(on: Self.channel) { notifications in
                // The LISTEN has completed here: from now on no committed change is missed.
                changes.setLive(true)
                logger.debug("change feed: listening", metadata: ["channel": "\(Self.channel)"])
                try await watch(notifications, on: connection)
            }
        } catch {
            failure = error
        }
        try? await connection.close()
        return failure
    }

    /// Delivers notifications while a heartbeat checks the connection; ends (by throwing) when
    /// either fails.
    private func watch(_ notifications: PostgresNotificationSequence, on connection: PostgresConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await notification in notifications {
                    let (change, token) = Self.change(fromPayload: notification.payload)
                    changes.publish(change, token: token)
                }
                throw Ended()
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: Self.heartbeatInterval)
                    // Someone found the feed untrustworthy (a lost echo): listen afresh.
                    guard changes.isLive else { throw Distrusted() }
                    try await heartbeat(connection)
                }
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// `SELECT 1` on the listening connection; if it does not answer in time the connection is
    /// closed, which ends the notification stream too.
    private func heartbeat(_ connection: PostgresConnection) async throws {
        let timeout = Self.heartbeatTimeout
        let watchdog = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            PostgresRepository.abort(connection)
        }
        defer { watchdog.cancel() }
        _ = try await connection.query("SELECT 1", logger: logger).collect()
    }
}
