import DevInfraCore
import Foundation
import Testing

/// PostgreSQL stopped under a running server, then started again: requests get 503
/// `database_unavailable` with `Retry-After` (never a key served from a cache that can no longer
/// hear revocations), `/healthz` and `/readyz` say so, and everything works again without a restart.
/// The test runs a PostgreSQL of its own (scripts/start-postgres.sh) so that it can stop it.
@Suite(.enabled(if: TestDatabase.isPostgres, "needs PostgreSQL (scripts/test.sh starts it)"))
struct DatabaseOutageTests {
    let sandbox = Sandbox()
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/start-postgres.sh").path

    /// Runs scripts/start-postgres.sh with posix_spawn and waitpid. Foundation's `Process` missed
    /// this script's exit (its child daemonises PostgreSQL) and waited forever, so it is not used here.
    func postgres(_ arguments: [String]) throws -> RunResult {
        let out = sandbox.root + "/pg-\(UUID().uuidString).out"
        let command = "exec /bin/bash '\(Self.script)' \(arguments.map { "'\($0)'" }.joined(separator: " ")) </dev/null >'\(out)' 2>&1"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { (text: String) in strdup(text) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { envp.forEach { free($0) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, envp) == 0 else { throw TestDatabase.Failed(description: "posix_spawn failed") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        #expect(exitStatus == 0, "start-postgres.sh \(arguments): \(text)")
        return RunResult(status: exitStatus, stdout: text, stderr: "", seconds: 0)
    }

    /// Polls (bounded) until `condition` holds.
    func eventually(_ seconds: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try condition()
    }

    @Test func requestsGet503WhileTheDatabaseIsDownAndWorkOnceItIsBack() throws {
        let folder = sandbox.root + "/pg"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let started = try postgres([folder])
        defer { _ = try? postgres(["--stop", folder]) }
        let exports = Dictionary(uniqueKeysWithValues: started.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.replacingOccurrences(of: "export ", with: "").split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        })
        let url = try TestDatabase.createDatabase(on: try #require(exports["DEV_INFRA_TEST_POSTGRES_URL"]))
        let server = try ServerProcess(folder: sandbox.root + "/server", database: url)
        defer { server.stop() }
        let admin = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try server.request("GET", "/v1/whoami", key: admin).0 == 200)

        _ = try postgres(["--stop", folder])
        #expect(try eventually { try server.request("GET", "/healthz").1["change_feed"] as? String == "down" })
        let (status, problem) = try server.request("GET", "/v1/whoami", key: admin)
        #expect(status == 503 && problem["code"] as? String == "database_unavailable", "\(problem)")
        let (creating, _) = try server.request("POST", "/v1/keys", key: admin, body: #"{"name":"x","scopes":["keys:read"]}"#)
        #expect(creating == 503)
        let ready = try Run.process("/usr/bin/curl", ["-s", "-i", server.url + "/readyz"], environment: [:])
        #expect(ready.stdout.hasPrefix("HTTP/1.1 503") && ready.stdout.lowercased().contains("retry-after: "), "\(ready.stdout)")
        #expect(try server.request("GET", "/healthz").1["database"] as? String == "unavailable")

        _ = try postgres(["--resume", folder])
        #expect(try eventually { try server.request("GET", "/readyz").0 == 200 })
        #expect(try server.request("GET", "/v1/whoami", key: admin).0 == 200)
        #expect(try server.request("POST", "/v1/keys", key: admin, body: #"{"name":"y","scopes":["keys:read"]}"#).0 == 201)
        #expect(try eventually { try server.request("GET", "/healthz").1["change_feed"] as? String == "live" })
        #expect(try server.request("GET", "/healthz").1["database"] as? String == "ok")
    }
}
