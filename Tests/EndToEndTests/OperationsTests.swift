import DevInfraCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// What an operator of replicas relies on, against the real binary: Prometheus `/metrics` on its
/// own listener, JSON logs that hold no secret, and a graceful SIGTERM.
@Suite struct OperationsTests {
    let sandbox = Sandbox()

    /// The port the server logged for `/metrics` (it was given port 0).
    func metricsPort(_ server: ServerProcess) throws -> Int {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let log = (try? String(contentsOfFile: server.logPath, encoding: .utf8)) ?? ""
            if let range = log.range(of: #"metrics on 127\.0\.0\.1:\d+"#, options: .regularExpression),
               let port = Int(log[range].split(separator: ":").last ?? "") {
                return port
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestDatabase.Failed(description: "no metrics line in the log")
    }

    func get(_ url: String) throws -> (Int, String) {
        let result = try Run.process("/usr/bin/curl", ["-s", "-m", "10", "-w", "\n%{http_code}", url], environment: [:])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func metricsJSONLogsAndAGracefulStop() throws {
        let server = try ServerProcess(folder: sandbox.root + "/server", arguments: ["--metrics-port", "0", "--log-format", "json"])
        defer { server.stop() }
        let admin = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try metricsPort(server)
        #expect(try server.request("GET", "/v1/whoami", key: admin).0 == 200)
        #expect(try server.request("GET", "/v1/whoami", key: admin).0 == 200)
        let forged = APIKey(keyID: try APIKey.parse(admin).keyID, secret: APIKey.generate().secret).rawValue
        #expect(try server.request("GET", "/v1/whoami", key: forged).0 == 401)
        #expect(try server.request("GET", "/v1/keys/AAAAAAAAAAAA", key: admin).0 == 404)

        let (status, text) = try get("http://127.0.0.1:\(port)/metrics")
        #expect(status == 200)
        #expect(text.contains(#"devinfra_http_requests_total{route="/v1/whoami",method="GET",status="200"} 2"#), "\(text)")
        #expect(text.contains(#"devinfra_http_requests_total{route="/v1/keys/{id}",method="GET",status="404"} 1"#),
                "a path's key id never becomes a label")
        #expect(text.contains(#"devinfra_auth_failures_total{code="unknown_key"} 1"#))
        #expect(text.contains("devinfra_auth_duration_seconds_bucket"))
        #expect(text.contains("devinfra_key_cache_hits"))
        #expect(try server.request("GET", "/metrics").0 == 404, "the API's port does not serve metrics")

        server.stop()
        #expect(server.process.terminationStatus == 0, "SIGTERM is a clean stop")
        let lines = try String(contentsOfFile: server.logPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 3)
        let secrets = [try APIKey.parse(admin).secret, try APIKey.parse(forged).secret]
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["ts"] is String && object?["level"] is String && object?["msg"] is String, "not a JSON log line: \(line)")
            #expect(!secrets.contains { line.contains($0) })
        }
        #expect(lines.contains { $0.contains("hb.request.id") }, "request lines carry the request id")
    }
}

/// The new `serve` options refuse what they cannot mean, each with a message naming the option
/// (exit 64, nothing started); and the server key cannot come from two places at once.
@Suite struct ServeOptionTests {
    let sandbox = Sandbox()

    @Test(arguments: [
        (["--pool-size", "0"], "--pool-size"), (["--pool-size", "99999999999999999999"], "pool-size"),
        (["--key-cache-size", "-1"], "--key-cache-size"), (["--key-cache-size", "10000001"], "--key-cache-size"),
        (["--metrics-port", "65536"], "--metrics-port"), (["--metrics-port", "18999", "--port", "18999"], "--metrics-port"),
        (["--log-format", String(repeating: "x", count: 100_000)], "--log-format"),
        (["--database", "mysql://x"], "sqlite:PATH"), (["--database", "postgres://"], "database URL"),
    ])
    func badOptionsAreRefused(_ arguments: [String], _ named: String) throws {
        let result = try Run.process(Run.builtProduct("dev-infra-server"), ["serve", "--database", "memory:"] + arguments,
                                     environment: ["HOME": sandbox.root, "PATH": "/usr/bin:/bin"], timeout: 20)
        #expect(result.status == 64, "\(arguments.map { $0.prefix(30) }): \(result.stderr.prefix(300))")
        #expect(result.stderr.contains(named), "\(result.stderr.prefix(300))")
    }

    @Test func theServerKeyFromTwoPlacesIsRefused() throws {
        let file = try TestDatabase.secretFile(in: sandbox.root)
        let result = try Run.process(Run.builtProduct("dev-infra-server"), ["serve", "--database", "memory:", "--secret-file", file],
                                     environment: ["HOME": sandbox.root, "PATH": "/usr/bin:/bin",
                                                   "DEV_INFRA_SERVER_SECRET": Data(repeating: 1, count: 32).base64EncodedString()],
                                     timeout: 20)
        #expect(result.status != 0 && result.stderr.contains("given twice"), "\(result.stderr)")
    }
}
