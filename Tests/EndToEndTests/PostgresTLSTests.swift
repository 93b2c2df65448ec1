import DevInfraCore
import Foundation
import Testing

/// TLS to PostgreSQL when the URL asks for it: `verify-full` with the server's CA connects and
/// every connection of the server is encrypted; without that CA it refuses to connect; `require`
/// encrypts without verifying. scripts/start-postgres.sh serves TLS with a CA of its own.
@Suite(.enabled(if: TestDatabase.isPostgres && ProcessInfo.processInfo.environment["DEV_INFRA_TEST_POSTGRES_CA"] != nil,
                "needs scripts/start-postgres.sh's PostgreSQL and its CA"))
struct PostgresTLSTests {
    let sandbox = Sandbox()
    let ca = ProcessInfo.processInfo.environment["DEV_INFRA_TEST_POSTGRES_CA"] ?? ""

    @Test func theDatabaseConnectionIsVerifiedWhenTheURLAsksForIt() throws {
        let plain = try TestDatabase.createDatabase(on: try #require(TestDatabase.postgresURL))
        let verified = plain + "?sslmode=verify-full&sslrootcert=" + ca
        let server = try ServerProcess(folder: sandbox.root + "/server", database: verified)
        defer { server.stop() }
        let admin = try server.admin(["admin", "bootstrap"])
        #expect(admin.status == 0, "\(admin.stderr)")
        #expect(try server.request("GET", "/v1/whoami", key: admin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)).0 == 200)
        let encrypted = try TestDatabase.sql(plain, """
            SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
            WHERE a.application_name LIKE 'dev-infra-server%' AND a.datname = current_database()
            """)
        #expect(encrypted.trimmingCharacters(in: .whitespacesAndNewlines) == "t", "every connection of the server uses TLS")

        // The system's roots do not know this server's CA: verify-full refuses, with the reason.
        let unverified = try Run.process(Run.builtProduct("dev-infra-server"), ["admin", "user", "list", "--database", plain + "?sslmode=verify-full"],
                                         environment: ["PATH": "/usr/bin:/bin"])
        #expect(unverified.status == 6 && unverified.stderr.contains("database_unavailable"), "\(unverified.stderr)")
        // require: encrypted, not verified.
        let required = try Run.process(Run.builtProduct("dev-infra-server"), ["admin", "user", "list", "--database", plain + "?sslmode=require"],
                                       environment: ["PATH": "/usr/bin:/bin"])
        #expect(required.status == 0 && required.stdout.contains("admin\tadmin"), "\(required.stderr)")
        // The URL's password never reaches an error message.
        let wrong = try Run.process(Run.builtProduct("dev-infra-server"),
                                    ["admin", "user", "list", "--database", "postgres://postgres:hunter2-secret@127.0.0.1:1/x?sslmode=bogus"],
                                    environment: ["PATH": "/usr/bin:/bin"])
        #expect(wrong.status != 0 && !wrong.stderr.contains("hunter2-secret") && !wrong.stdout.contains("hunter2-secret"), "\(wrong.stderr)")
    }
}
