import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers

/// A store chosen by URL, with what must run beside it: `sqlite:PATH` (the embedded default),
/// `postgres://user@host:port/db?sslmode=...` (several replicas on one database), or `memory:`
/// (a throwaway server; nothing survives it). The application is built on `repository` and does
/// not know which it is.
public struct StorageBackend: Sendable {
    public let repository: any KeyRepository
    /// Where the server's own key lives when configuration names none: beside an SQLite file;
    /// `ephemeralSecrets` for a store that dies with the process; nil when it must be configured.
    public let defaultSecretsPath: String?
    public static let ephemeralSecrets = "(ephemeral)"
    /// Shown in logs and errors: the URL without its password.
    public let description: String
    private var sqlitePath: String?
    private let background: @Sendable () async throws -> Void
    /// A pool runs once (postgres-nio traps on a second `run()`): a second start throws instead.
    private let started = NIOLockedValueBox(false)
    private let prepare: @Sendable () async throws -> Void

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func open(_ url: String, poolSize: Int = 10, logger: Logger) throws -> StorageBackend {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            let settings: PostgresSettings
            do { settings = try PostgresSettings(url: url, poolSize: poolSize) } catch let error as DatabaseURLError {
                throw Failure(description: error.description)
            }
            let repository = PostgresRepository(settings: settings, logger: logger)
            return StorageBackend(repository: repository, defaultSecretsPath: nil, description: settings.redacted,
                                  background: { try await repository.run() }, prepare: {
                                      // A ping first: an unreachable database is said within the query
                                      // timeout, not the minute migrations may wait for another replica's.
                                      try await repository.ping()
                                      try await repository.migrate()
                                  })
        }
        if url == "memory:" {
            return StorageBackend(repository: InMemoryRepository(), defaultSecretsPath: ephemeralSecrets, description: "memory:",
                                  background: {}, prepare: {})
        }
        guard url.hasPrefix("sqlite:"), url.count > "sqlite:".count else {
            throw Failure(description: "the database URL must be sqlite:PATH, postgres://USER@HOST:PORT/DB or memory:")
        }
        let path = String(url.dropFirst("sqlite:".count))
        let repository = try SQLiteRepository(path: path)
        var backend = StorageBackend(repository: repository, defaultSecretsPath: path + ".key", description: url, background: {}, prepare: {})
        backend.sqlitePath = path
        return backend
    }

    /// Already-built storage, as the fast tests use it.
    public init(repository: any KeyRepository, defaultSecretsPath: String? = nil) {
        self.init(repository: repository, defaultSecretsPath: defaultSecretsPath, description: String(describing: type(of: repository)),
                  background: {}, prepare: {})
    }

    private init(repository: any KeyRepository, defaultSecretsPath: String?, description: String,
                 background: @escaping @Sendable () async throws -> Void, prepare: @escaping @Sendable () async throws -> Void) {
        self.repository = repository
        self.defaultSecretsPath = defaultSecretsPath
        self.description = description
        self.background = background
        self.prepare = prepare
    }

    /// Runs `body` with the store's connections up and its schema migrated; they close when
    /// `body` returns, so a server's pool outlives its last request and its final flush.
    public func withRunning<T: Sendable>(_ body: @escaping @Sendable (any KeyRepository) async throws -> T) async throws -> T {
        try claim()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await background() }
            try await prepare()
            let result = try await body(repository)
            group.cancelAll()
            return result
        }
    }

    /// Starts the store's connections and migrates, for a caller that cannot scope them to one
    /// call (a test fixture); `stop()` ends them.
    public func start() async throws -> Running {
        try claim()
        let task = Task { try await background() }
        do { try await prepare() } catch {
            task.cancel()
            throw error
        }
        return Running(repository: repository, task: task)
    }

    /// For `serve`: one server per SQLite file. Its key cache hears only its own changes, so a
    /// second server on the same file could serve a key the first revoked; several replicas
    /// belong on PostgreSQL. The lock is `PATH.lock`, held until the process exits.
    public func lockForServing() throws {
        guard let sqlitePath else { return }
        let path = sqlitePath + ".lock"
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Failure(description: "another dev-infra-server serves \(sqlitePath); one server per SQLite file (run replicas on PostgreSQL)")
        }
        // Deliberately never closed: the kernel releases the lock when the process ends, however it ends.
    }

    private func claim() throws {
        let first = started.withLockedValue { started in
            defer { started = true }
            return !started
        }
        guard first else { throw Failure(description: "this store was started already; open it again for another run") }
    }

    public struct Running: Sendable {
        public let repository: any KeyRepository
        let task: Task<Void, any Error>
        public func stop() { task.cancel() }
    }
}
