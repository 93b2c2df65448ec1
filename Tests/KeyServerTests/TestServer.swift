import DevInfraCore
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import KeyServer
import HummingbirdBcrypt
import NIOConcurrencyHelpers

/// A clock the test moves by hand, so grace periods and expiry are tested without sleeping.
final class ManualClock: Sendable {
    private let now = NIOLockedValueBox(Date(timeIntervalSince1970: 1_800_000_000))
    func read() -> Date { now.withLockedValue { $0 } }
    func advance(_ seconds: TimeInterval) { now.withLockedValue { $0 += seconds } }
}

/// Counts the server's background flushes, so a test can wait for the next ones instead of sleeping.
final class FlushSignal: Sendable {
    private let state = NIOLockedValueBox<(count: Int, waiters: [(Int, CheckedContinuation<Void, Never>)])>((0, []))

    func signal() {
        let ready = state.withLockedValue { state in
            state.count += 1
            let count = state.count
            let ready = state.waiters.filter { $0.0 <= count }.map(\.1)
            state.waiters.removeAll { $0.0 <= count }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    /// Returns once `more` flushes have completed after the call: the second one surely began
    /// after the call, so whatever the test changed before has been seen by it.
    func wait(more: Int = 2) async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLockedValue { state in
                state.waiters.append((state.count + more, continuation))
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

/// A real server on a real database (an SQLite file in a temp folder, or a database of its own
/// on the test PostgreSQL: see `TestBackend`), on a random loopback port.
final class TestServer: @unchecked Sendable {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dev-infra-server-\(UUID().uuidString)").path
    var databasePath: String { folder + "/server.sqlite" }
    /// The store, opened on first use and kept for the fixture's life (its admin calls and its runs).
    private var storage: StorageBackend.Running?
    /// Given before first use: another store (in memory, or another replica's database).
    var databaseURL: String?
    var keyCacheSize = 100_000
    let clock = ManualClock()
    var rateLimit: Double = 10_000
    var limits: ServerLimits = {
        var limits = ServerLimits()
        limits.signInBurst = 1000
        limits.signInNameBurst = 1000
        return limits
    }()
    var requestReadTimeout: Duration = .seconds(30)
    var idleTimeout: Duration = .seconds(30)
    /// How many bcrypt verifications ran, and against which hashes.
    let passwordChecks = NIOLockedValueBox<[String]>([])
    let flushes = FlushSignal()

    deinit {
        storage?.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    var repository: any KeyRepository {
        get async throws {
            if let storage { return storage.repository }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let url = try databaseURL ?? TestBackend.freshURL(folder: folder)
            databaseURL = url
            let started = try await StorageBackend.open(url, poolSize: 4, logger: .init(label: "test-storage")).start()
            storage = started
            return started.repository
        }
    }

    /// The server key: a file in the folder, as `--secret-file` names one (PostgreSQL has no default).
    var secrets: ServerSecrets {
        get throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            return try ServerSecrets.loadOrCreate(at: TestBackend.isSQLite ? databasePath + ".key" : folder + "/server.key")
        }
    }

    var admin: Administration {
        get async throws { Administration(repository: try await repository, clock: { [clock] in clock.read() }) }
    }

    /// Bootstrap, a team `web` with alice in it and a team `ops` without her; returns the admin key.
    func seed() async throws -> String {
        let adminKey = try await admin.bootstrap(adminName: "root")
        try await admin.addTeam("web")
        try await admin.addTeam("ops")
        try await admin.addUser("alice", password: "alice-password", teams: ["web"], admin: false)
        try await admin.addUser("bob", password: "bob-password", teams: ["ops"], admin: false)
        return adminKey
    }

    func run(_ body: @escaping @Sendable (API) async throws -> Void) async throws {
        var configuration = ServerConfiguration()
        configuration.keyCacheSize = keyCacheSize
        configuration.port = 0
        configuration.limits = limits
        configuration.rateLimit = rateLimit
        configuration.usageFlushInterval = .milliseconds(50)
        configuration.rejectionFlushInterval = .seconds(3600)
        configuration.requestReadTimeout = requestReadTimeout
        configuration.idleTimeout = idleTimeout
        configuration.clock = { [clock] in clock.read() }
        configuration.onFlush = { [flushes] in flushes.signal() }
        configuration.verifyPassword = { [passwordChecks] password, hash in
            passwordChecks.withLockedValue { $0.append(hash) }
            return Bcrypt.verify(password, hash: hash)
        }
        let app = try await buildApplication(configuration, repository: try await repository, secrets: try secrets)
        try await app.test(.live) { client in try await body(API(client: client)) }
    }
}

/// A thin JSON client over the test client.
struct API: Sendable {
    let client: any TestClientProtocol

    struct Reply: @unchecked Sendable {
        var status: Int
        var headers: HTTPFields
        var text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
        var code: String? { json["code"] as? String }
        var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
        subscript(_ key: String) -> Any? { json[key] }
    }

    func call(_ method: HTTPRequest.Method, _ path: String, key: String? = nil, body: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        if body != nil { headers[.contentType] = "application/json" }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers,
                                                       body: body.map { ByteBuffer(string: $0) })
        return Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
    }

    /// `count` requests at once, each on a connection of its own, so that the server really runs
    /// them side by side (the test client sends one request at a time on its one connection).
    func parallel(_ count: Int, _ method: HTTPRequest.Method, _ path: String, key: String, body: String? = nil,
                  headers: HTTPFields = [:]) async throws -> [Reply] {
        guard let port = client.port else { return [] }
        return try await withThrowingTaskGroup(of: Reply.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                        var fields = headers
                        fields[.authorization] = "Bearer \(key)"
                        if body != nil { fields[.contentType] = "application/json" }
                        let response = try await connection.execute(.init(path, method: method, authority: "127.0.0.1", headers: fields,
                                                                          body: body.map { ByteBuffer(string: $0) }))
                        return Reply(status: Int(response.status.code), headers: response.headers,
                                     text: String(buffer: response.body ?? ByteBuffer()))
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// Creates a key and returns the raw key.
    func createKey(_ key: String, name: String = "k", scopes: [String], team: String? = nil, expiresIn: Int? = nil) async throws -> Reply {
        var fields = ["\"name\": \"\(name)\"", "\"scopes\": [\(scopes.map { "\"\($0)\"" }.joined(separator: ","))]"]
        if let team { fields.append("\"team\": \"\(team)\"") }
        if let expiresIn { fields.append("\"expires_in\": \(expiresIn)") }
        return try await call(.post, "/v1/keys", key: key, body: "{\(fields.joined(separator: ","))}")
    }

    func login(_ user: String, _ password: String) async throws -> String {
        let reply = try await call(.post, "/v1/auth/token", body: #"{"username":"\#(user)","password":"\#(password)"}"#)
        return reply["access_token"] as? String ?? ""
    }
}
