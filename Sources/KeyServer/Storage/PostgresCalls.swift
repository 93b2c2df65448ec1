import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Every database call of `PostgresRepository`: bounded in time, with the storage contract's errors.
extension PostgresRepository {
    // MARK: Bounded calls and their errors

    /// A call that did not finish within its timeout.
    struct TimedOut: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "the database did not answer within \(timeout)" }
    }

    /// A statement that returns a row did not (cannot happen short of a broken server).
    struct UnexpectedResult: Error, CustomStringConvertible {
        var statement: String
        var description: String { "\(statement) returned no row" }
    }

    /// Runs `body` with the storage contract's errors: a unique violation is `duplicate` (when
    /// `duplicate` names what), a database that is down or does not answer within `timeout`
    /// (default `settings.queryTimeout`) is `unavailable`.
    ///
    /// The bound holds even when a query hangs on a connection that no longer answers: `body` runs
    /// in a task of its own, the caller is answered at the deadline, and the connection `body`
    /// leased is closed so that the abandoned query fails at once and the pool replaces it.
    func run<T: Sendable>(timeout: Duration? = nil, duplicate: String? = nil,
                                  _ body: @escaping @Sendable (Call) async throws -> T) async throws -> T {
        let call = Call(client: client, logger: logger, lease: LeaseGuard())
        let limit = timeout ?? settings.queryTimeout
        inFlight.withLockedValue { $0 += 1 }
        defer { inFlight.withLockedValue { $0 -= 1 } }
        do {
            return try await Self.bounded(by: limit, onTimeout: { call.lease.expire() }) { try await body(call) }
        } catch {
            throw storageError(error, duplicate: duplicate)
        }
    }

    func storageError(_ error: any Error, duplicate: String?) -> any Error {
        let inner = Self.unwrap(error)
        switch Self.classify(inner) {
        case .duplicate:
            guard let duplicate else { return inner }
            return StorageError.duplicate(duplicate)
        case .unavailable:
            let now = DispatchTime.now().uptimeNanoseconds
            let due = lastUnavailableLog.withLockedValue { last in
                guard now &- last >= 1_000_000_000 || last == 0 else { return false }
                last = now
                return true
            }
            if due { logger.warning("database unavailable", metadata: ["error": "\(Self.summary(inner))"]) }
            return StorageError.unavailable
        case .invalidText:
            return StorageError.invalidText
        case .other:
            return inner
        }
    }

    enum FailureKind: Equatable {
        case duplicate, unavailable, invalidText, other
    }

    /// The error inside a `PostgresTransactionError` (which wraps whatever failed in a transaction).
    static func unwrap(_ error: any Error) -> any Error {
        if let failure = error as? PostgresTransactionError,
           let inner = failure.beginError ?? failure.closureError ?? failure.commitError {
            return unwrap(inner)
        }
        return error
    }

    /// Driver errors that mean "no usable connection to the database".
    static let unavailableCodes: Set<PSQLError.Code> = [
        .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
        .sslUnsupported, .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest,
    ]

    static func classify(_ error: any Error) -> FailureKind {
        let inner = unwrap(error)
        switch inner {
        case let psql as PSQLError:
            guard psql.code == .server else { return unavailableCodes.contains(psql.code) ? .unavailable : .other }
            let state = psql.serverInfo?[.sqlState] ?? ""
            if state == "23505" { return .duplicate }  // unique_violation
            // character_not_in_repertoire, untranslatable_character: NUL in text, which SQLite stores.
            if state == "22021" || state == "22P05" { return .invalidText }
            // 08: connection exceptions; 57P01-05: admin or crash shutdown, cannot connect now,
            // database dropped, idle session timeout; 53300: too many connections.
            if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" { return .unavailable }
            return .other
        case is TimedOut, is IOError, is ChannelError:
            return .unavailable
        default:
            // The pool's own errors (`connectionCreationCircuitBreakerTripped` after it failed to
            // connect for a while, `poolShutdown`) come from a module the package does not import.
            return String(describing: type(of: inner)) == "ConnectionPoolError" ? .unavailable : .other
        }
    }

    /// What a log may say about a database error: its code, SQLSTATE, server message and
    /// underlying cause; never the query's bound values (`String(reflecting:)` would print them).
    static func summary(_ error: any Error) -> String {
        let inner = unwrap(error)
        guard let psql = inner as? PSQLError else { return String(describing: inner) }
        var parts = ["code: \(psql.code)"]
        if let state = psql.serverInfo?[.sqlState] { parts.append("sqlstate: \(state)") }
        if let message = psql.serverInfo?[.message] { parts.append("message: \(message)") }
        if let underlying = psql.underlying { parts.append("underlying: \(String(describing: underlying))") }
        return "PSQLError(\(parts.joined(separator: ", ")))"
    }

    /// Closes a connection now, without waiting: a pooled one is then dropped from the pool.
    static func abort(_ connection: PostgresConnection) {
        let _: EventLoopFuture<Void> = connection.close()
    }

    /// Answers with `body`'s result, or with `TimedOut` (after calling `onTimeout`) when `timeout`
    /// passes first; cancelling the caller cancels `body`.
    static func bounded<T: Sendable>(by timeout: Duration, onTimeout: @escaping @Sendable () -> Void,
                                     _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                race.start(continuation, timeout: timeout, onTimeout: onTimeout, body)
            }
        } onCancel: {
            race.cancel()
        }
    }

    /// The work and the timer of one bounded call; whichever finishes first answers.
    final class Race<T: Sendable>: Sendable {
        private struct State: Sendable {
            var continuation: CheckedContinuation<T, any Error>?
            var work: Task<Void, Never>?
            var timer: Task<Void, Never>?
            var finished = false
            var cancelled = false
        }

        private let state = NIOLockedValueBox(State())

        func start(_ continuation: CheckedContinuation<T, any Error>, timeout: Duration, onTimeout: @escaping @Sendable () -> Void,
                   _ body: @escaping @Sendable () async throws -> T) {
            state.withLockedValue { $0.continuation = continuation }
            let work = Task {
                do {
                    let value = try await body()
                    self.finish(.success(value))
                } catch {
                    self.finish(.failure(error))
                }
            }
            let timer = Task {
                do { try await Task.sleep(for: timeout) } catch { return }
                onTimeout()
                self.finish(.failure(TimedOut(timeout: timeout)))
            }
            let (finished, cancelled) = state.withLockedValue { state in
                state.work = work
                state.timer = timer
                return (state.finished, state.cancelled)
            }
            // Finished or cancelled before the tasks were recorded: do what `finish` or `cancel` could not.
            if finished { timer.cancel() }
            if cancelled { work.cancel() }
        }

        func finish(_ result: Result<T, any Error>) {
            guard let taken = state.withLockedValue({ state -> Taken? in
                guard !state.finished else { return nil }
                state.finished = true
                defer { state.continuation = nil }
                return Taken(continuation: state.continuation, work: state.work, timer: state.timer)
            }) else { return }
            taken.timer?.cancel()
            // After a timeout: a call still waiting for a connection stops waiting.
            if case .failure = result { taken.work?.cancel() }
            taken.continuation?.resume(with: result)
        }

        private struct Taken {
            var continuation: CheckedContinuation<T, any Error>?
            var work: Task<Void, Never>?
            var timer: Task<Void, Never>?
        }

        func cancel() {
            let work = state.withLockedValue { state -> Task<Void, Never>? in
                state.cancelled = true
                return state.work
            }
            work?.cancel()
        }
    }

    /// The connection a bounded call holds, so that its timeout can close it.
    final class LeaseGuard: Sendable {
        private struct State: Sendable {
            var connection: PostgresConnection?
            var expired = false
        }

        private let state = NIOLockedValueBox(State())

        func attach(_ connection: PostgresConnection) throws {
            let expired = state.withLockedValue { state in
                if !state.expired { state.connection = connection }
                return state.expired
            }
            // The caller was answered already; do nothing more.
            if expired { throw CancellationError() }
        }

        func detach() {
            state.withLockedValue { $0.connection = nil }
        }

        func expire() {
            let connection = state.withLockedValue { state -> PostgresConnection? in
                state.expired = true
                defer { state.connection = nil }
                return state.connection
            }
            if let connection { PostgresRepository.abort(connection) }
        }
    }

    /// What a bounded call's body uses: single statements on a pooled connection, or a transaction.
    struct Call: PostgresStatements {
        let client: PostgresClient
        let logger: Logger
        let lease: LeaseGuard

        func withConnection<R: Sendable>(_ body: (PostgresConnection) async throws -> R) async throws -> R {
            try await client.withConnection { connection in
                try lease.attach(connection)
                defer { lease.detach() }
                return try await body(connection)
            }
        }

        /// `BEGIN` ... `COMMIT`, or `ROLLBACK` when `body` throws (its error comes back wrapped in
        /// a `PostgresTransactionError`, which `run` unwraps).
        func transaction<R: Sendable>(_ body: (Session) async throws -> R) async throws -> R {
            try await withConnection { connection in
                try await connection.withTransaction(logger: logger) { connection in
                    try await body(Session(connection: connection, logger: logger))
                }
            }
        }

        func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
            try await withConnection { connection in try await connection.query(query, logger: logger).collect() }
        }
    }

    /// A connection inside a transaction.
    struct Session: PostgresStatements {
        let connection: PostgresConnection
        let logger: Logger

        func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
            try await connection.query(query, logger: logger).collect()
        }
    }
}
