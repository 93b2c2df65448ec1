import DevInfraCore
import Foundation
import Testing

/// Several real `dev-infra-server` processes on one PostgreSQL, as a team runs them behind a load
/// balancer. Each replica caches verified keys; revocation still takes effect on the next request
/// everywhere, through LISTEN/NOTIFY, and a replica that loses its LISTEN connection reads through.
@Suite(.enabled(if: TestDatabase.isPostgres, "needs DEV_INFRA_TEST_POSTGRES_URL (scripts/test.sh starts PostgreSQL)"))
struct ReplicaTests {
    let sandbox = Sandbox()

    /// `count` servers on one new database and one secret file, and the bootstrap admin key.
    func replicas(_ count: Int, arguments: [String] = ["--rate-limit", "100000"]) throws -> ([ServerProcess], String) {
        let url = try TestDatabase.createDatabase(on: try #require(TestDatabase.postgresURL))
        let secret = try TestDatabase.secretFile(in: sandbox.root)
        let servers = try (0..<count).map { try ServerProcess(folder: sandbox.root + "/replica\($0)", arguments: arguments, database: url, secretFile: secret) }
        let admin = try servers[0].admin(["admin", "bootstrap"])
        #expect(admin.status == 0, "\(admin.stderr)")
        return (servers, admin.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func create(_ server: ServerProcess, _ admin: String, headers: [String: String] = [:]) throws -> (Int, [String: Any]) {
        try server.request("POST", "/v1/keys", key: admin, body: #"{"name":"svc","scopes":["keys:read","keys:write"]}"#, headers: headers)
    }

    @Test func aKeyRevokedThroughOneReplicaIsRefusedByTheOthersOnTheirNextRequest() throws {
        let (servers, admin) = try replicas(3)
        defer { servers.forEach { $0.stop() } }
        let (a, b, c) = (servers[0], servers[1], servers[2])
        for round in 0..<5 {
            let (status, created) = try create(a, admin)
            #expect(status == 201)
            let key = try #require(created["api_key"] as? String)
            let id = try APIKey.parse(key).keyID
            // Every replica has now verified (and cached) the key.
            for server in servers { #expect(try server.request("GET", "/v1/whoami", key: key).0 == 200) }
            #expect(try a.request("DELETE", "/v1/keys/\(id)", key: admin).0 == 200)
            for server in [b, c] {
                let (refused, problem) = try server.request("GET", "/v1/whoami", key: key)
                #expect(refused == 401 && problem["code"] as? String == "key_revoked", "round \(round): \(problem)")
            }
        }
    }

    @Test func aRotationThroughOneReplicaIsSeenByAnother() throws {
        let (servers, admin) = try replicas(2)
        defer { servers.forEach { $0.stop() } }
        let (a, b) = (servers[0], servers[1])
        let key = try #require(try create(a, admin).1["api_key"] as? String)
        #expect(try b.request("GET", "/v1/whoami", key: key).0 == 200)
        let (status, rotated) = try a.request("POST", "/v1/keys/\(try APIKey.parse(key).keyID)/rotate", key: admin, body: #"{"grace_seconds":0}"#)
        #expect(status == 201)
        let successor = try #require(rotated["api_key"] as? String)
        let (refused, problem) = try b.request("GET", "/v1/whoami", key: key)
        #expect(refused == 401 && problem["code"] as? String == "key_expired", "\(problem)")
        #expect(try b.request("GET", "/v1/whoami", key: successor).0 == 200)
    }

    @Test func aRetriedCreateSentToTwoReplicasMintsOneKey() throws {
        let (servers, admin) = try replicas(2)
        defer { servers.forEach { $0.stop() } }
        let first = try create(servers[0], admin, headers: ["Idempotency-Key": "deploy-42"])
        let retry = try create(servers[1], admin, headers: ["Idempotency-Key": "deploy-42"])
        #expect(first.0 == 201 && retry.0 == 201)
        #expect(first.1["api_key"] as? String == retry.1["api_key"] as? String)
        let (_, page) = try servers[1].request("GET", "/v1/keys?all=true", key: admin)
        #expect((page["items"] as? [[String: Any]])?.filter { $0["name"] as? String == "svc" }.count == 1)
    }

    @Test func lastUseFromEveryReplicaReachesTheDatabaseAndAdminCommandsWorkWhileTheyServe() throws {
        let (servers, admin) = try replicas(2)
        let (a, b) = (servers[0], servers[1])
        let one = try #require(try create(a, admin).1["api_key"] as? String)
        let two = try #require(try create(a, admin).1["api_key"] as? String)
        #expect(try a.request("GET", "/v1/whoami", key: one).0 == 200)
        #expect(try b.request("GET", "/v1/whoami", key: two).0 == 200)
        // An operator adds a user on the shared database while both replicas serve.
        #expect(try a.admin(["admin", "user", "add", "erin"], stdin: "erin-password\n").status == 0)
        let (signedIn, token) = try b.request("POST", "/v1/auth/token", body: #"{"username":"erin","password":"erin-password"}"#)
        #expect(signedIn == 200 && token["access_token"] != nil)
        // SIGTERM: each replica flushes what it counted before it exits.
        a.stop()
        b.stop()
        for key in [one, two] {
            let used = try TestDatabase.sql(a.database, "SELECT last_used_at IS NOT NULL FROM api_keys WHERE key_id = '\(try APIKey.parse(key).keyID)'")
            #expect(used.trimmingCharacters(in: .whitespacesAndNewlines) == "t", "last_used of \(key.prefix(17))")
        }
    }

    /// A change made while a replica's LISTEN connection is down is never missed: the replica
    /// drops its cache when the connection goes and again when it is back.
    @Test func aReplicaThatLostItsListenConnectionDoesNotServeFromItsCache() throws {
        let (servers, admin) = try replicas(1)
        let server = servers[0]
        defer { server.stop() }
        let key = try #require(try create(server, admin).1["api_key"] as? String)
        #expect(try server.request("GET", "/v1/whoami", key: key).0 == 200)
        let connects = try #require(try server.request("GET", "/healthz").1["change_feed_connects"] as? Int)
        // Behind the server's back and without a notification: end its LISTEN connection and revoke.
        try TestDatabase.sql(server.database, """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'dev-infra-server listener' AND datname = current_database();
            UPDATE api_keys SET revoked_at = 1800000000, revoked_by = 'dba' WHERE key_id = '\(try APIKey.parse(key).keyID)';
            """)
        // Wait (bounded) until the replica has noticed and listens again.
        let deadline = Date().addingTimeInterval(20)
        var now = connects
        while Date() < deadline, now <= connects {
            Thread.sleep(forTimeInterval: 0.05)
            now = try server.request("GET", "/healthz").1["change_feed_connects"] as? Int ?? 0
        }
        #expect(now > connects, "the replica noticed its LISTEN connection ended and listened again")
        let (status, problem) = try server.request("GET", "/v1/whoami", key: key)
        #expect(status == 401 && problem["code"] as? String == "key_revoked", "\(problem)")
    }
}
