import DevInfraCore
import Foundation
import Testing

/// The client against a server that misbehaves, and a stored key against a URL it was not stored for.
@Suite struct ClientBoundsTests {
    let sandbox = Sandbox()
    let key = "dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJa"

    /// The hostile server, running for `body`.
    func withHostileServer(_ body: (String) throws -> Void) throws {
        let server = try LoopbackScript("hostile_server.py")
        defer { server.stop() }
        try body(server.url)
    }

    @Test func aServerThatPagesForEverIsStopped() throws {
        try withHostileServer { url in
            let list = try sandbox.devInfra(["list"], extra: ["DEV_INFRA_API_KEY": key, "DEV_INFRA_API_URL": url])
            #expect(list.status == 1, "\(list.stderr)")
            #expect(list.stderr.contains("1000 pages"))
        }
    }

    @Test func anAnswerTooLargeIsRefusedNotBuffered() throws {
        try withHostileServer { url in
            let whoami = try sandbox.devInfra(["status"], extra: ["DEV_INFRA_API_KEY": key, "DEV_INFRA_API_URL": url])
            #expect(whoami.stderr.contains("larger than"), "\(whoami.stderr)")
            let api = try sandbox.devInfra(["api", "/v1/whoami"], extra: ["DEV_INFRA_API_KEY": key, "DEV_INFRA_API_URL": url])
            #expect(api.status != 0 && api.stderr.contains("larger than"), "\(api.stderr)")
        }
    }

    @Test func aStoredKeyIsNotSentToAnotherServer() throws {
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token"], stdin: key).status == 0)
        try withHostileServer { url in
            let list = try sandbox.devInfra(["list"], extra: ["DEV_INFRA_API_URL": url])
            #expect(list.status == 3, "\(list.stderr)")
            #expect(list.stderr.contains("[credential_server_mismatch]"))
            #expect(list.stderr.contains("was not sent"))
            let exec = try sandbox.devInfra(["exec", "--", "/usr/bin/env"], extra: ["DEV_INFRA_API_URL": url])
            #expect(exec.status == 3 && !exec.stdout.contains(key), "exec does not hand the key to a child bound elsewhere")
            let status = try sandbox.devInfra(["status"], extra: ["DEV_INFRA_API_URL": url])
            #expect(status.stderr.contains("[credential_server_mismatch]"), "status does not send it either: \(status.stderr)")
            // A key from the environment goes where the environment says.
            let env = try sandbox.devInfra(["list"], extra: ["DEV_INFRA_API_URL": url, "DEV_INFRA_API_KEY": key])
            #expect(!env.stderr.contains("credential_server_mismatch"))
        }
    }

    @Test func anAbsurdTimeoutIsIgnoredNotATrap() throws {
        for value in ["1e300", "inf", "nan", "-5"] {
            let result = try sandbox.devInfra(["list"], extra: ["DEV_INFRA_API_KEY": key, "DEV_INFRA_API_URL": "http://127.0.0.1:1",
                                                             "DEV_INFRA_HTTP_TIMEOUT": value])
            #expect(result.status == 6, "DEV_INFRA_HTTP_TIMEOUT=\(value): \(result.stderr)")
        }
    }

    @Test func aHostileURLIsRefusedNotACrash() throws {
        for url in ["http://[::1].evil.com/", "http://127.evil.example.com", "http://127.0.1.com", "http://[::1]x"] {
            let result = try sandbox.devInfra(["list"], extra: ["DEV_INFRA_API_KEY": key, "DEV_INFRA_API_URL": url])
            #expect(result.status == 64 || result.status == 1, "\(url): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("invalid server URL"), "\(url): \(result.stderr)")
        }
    }
}
