import DevInfraCore
import Foundation
import Testing

/// `dev-infra login --web` against the real server, the person at the browser played over HTTP:
/// sign in on /login, open /device with the code the CLI printed, approve or deny with the page's
/// CSRF token. The CLI polls every 5 s (the server's interval), so each test takes a few seconds.
@Suite struct DeviceLoginTests {
    let sandbox = Sandbox()

    /// A server with alice (team web) who can sign in on the pages.
    func startServer() throws -> ServerProcess {
        let server = try ServerProcess(folder: sandbox.root + "/server")
        _ = try server.admin(["admin", "bootstrap"])
        #expect(try server.admin(["admin", "team", "add", "web"]).status == 0)
        #expect(try server.admin(["admin", "user", "add", "alice", "--team", "web"], stdin: "alice-password\n").status == 0)
        return server
    }

    /// `dev-infra login --web --no-browser` running, and the code it printed.
    func startLogin(_ server: ServerProcess, verbose: Bool = false) throws -> (LiveProcess, String) {
        let arguments = ["login", "--web", "--no-browser", "--api-url", server.url, "--storage", "file"] + (verbose ? ["--verbose"] : [])
        let login = try LiveProcess(Run.binary, arguments, environment: sandbox.environment)
        let code = try #require(login.waitForStderr(#"one-time code: ([A-Z]{4}-[A-Z]{4})"#), "no code on stderr: \(login.stderr)")
        #expect(login.stderr.contains("! First copy your one-time code: \(code)\n"))
        #expect(login.stderr.contains("Open this URL in a browser: "), "\(login.stderr)")
        #expect(login.stderr.contains("/device"))
        #expect(login.stderr.contains("/device?user_code=\(code)"), "the complete URI is shown too")
        #expect(login.stdout.isEmpty)
        return (login, code)
    }

    /// alice, signed in, on the page of `code`: the client and the page's CSRF token.
    func openDevicePage(_ server: ServerProcess, code: String) throws -> (WebClient, String) {
        let web = WebClient(baseURL: server.url)
        try web.signIn(username: "alice", password: "alice-password")
        let page = try web.get("/device?user_code=\(code)")
        #expect(page.status == 200, "\(page.body.prefix(500))")
        let csrf = try #require(WebClient.csrf(in: page.body), "no CSRF token on the page: \(page.body.prefix(1000))")
        return (web, csrf)
    }

    @Test func approvingInTheBrowserLogsTheCLIIn() throws {
        let server = try startServer()
        defer { server.stop() }
        let (login, code) = try startLogin(server)
        let (web, csrf) = try openDevicePage(server, code: code)
        let approved = try web.post("/device/approve", form: [("user_code", code), ("csrf", csrf)])
        #expect((200..<400).contains(approved.status), "\(approved.status) \(approved.body.prefix(500))")

        let status = login.wait(timeout: 30)
        #expect(status == 0, "\(login.stderr)")
        #expect(login.stderr.contains("approved in the browser"))
        #expect(login.stderr.contains("the server knows this key: user alice"))
        #expect(login.stderr.contains("logged in to \(server.url)"))
        #expect(login.stdout.isEmpty, "the key is stored, not printed")

        let token = try sandbox.devInfra(["token"])
        #expect(token.status == 0, "\(token.stderr)")
        let key = try APIKey.parse(token.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let whoami = try sandbox.devInfra(["api", "/v1/whoami"])
        #expect(whoami.status == 0, "\(whoami.stderr)")
        #expect(whoami.stdout.contains("\"user\":\"alice\"") && whoami.stdout.contains("\"key_id\":\"\(key.keyID)\""), "\(whoami.stdout)")
        let shown = try sandbox.devInfra(["show", key.keyID])
        #expect(shown.stdout.contains("dev-infra CLI on "), "the key is named after the machine: \(shown.stdout)")

        // The code is used up: approving it again is refused, and nothing more is minted.
        let again = try web.post("/device/approve", form: [("user_code", code), ("csrf", csrf)])
        #expect(again.status >= 400)
    }

    @Test func denyingInTheBrowserExitsThreeWithAccessDenied() throws {
        let server = try startServer()
        defer { server.stop() }
        let (login, code) = try startLogin(server)
        let (web, csrf) = try openDevicePage(server, code: code)
        let denied = try web.post("/device/deny", form: [("user_code", code), ("csrf", csrf)])
        #expect((200..<400).contains(denied.status), "\(denied.status) \(denied.body.prefix(500))")

        let status = login.wait(timeout: 30)
        #expect(status == 3, "\(login.stderr)")
        #expect(login.stderr.contains("[access_denied]"))
        #expect(sandbox.read(sandbox.credentialsFile) == nil, "nothing was stored")
        #expect(try sandbox.devInfra(["token"]).status == 3)
    }

    @Test func aFormPostWithoutTheCSRFTokenIsRefusedAndTheCLIKeepsWaiting() throws {
        let server = try startServer()
        defer { server.stop() }
        let (login, code) = try startLogin(server, verbose: true)
        let (web, csrf) = try openDevicePage(server, code: code)

        let pollsBefore = Self.polls(login.stderr)
        let forged = try web.post("/device/approve", form: [("user_code", code)])
        #expect(forged.status == 403, "\(forged.status) \(forged.body.prefix(500))")
        let wrong = try web.post("/device/approve", form: [("user_code", code), ("csrf", String(csrf.reversed()))])
        #expect(wrong.status == 403, "\(wrong.status)")

        // The CLI polls after the forged posts, is told to keep waiting (400 authorization_pending), and does.
        let deadline = Date().addingTimeInterval(20)
        while Self.polls(login.stderr) <= pollsBefore && login.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(Self.polls(login.stderr) > pollsBefore, "\(login.stderr)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(login.process.isRunning, "the CLI still waits: \(login.stderr)")

        let denied = try web.post("/device/deny", form: [("user_code", code), ("csrf", csrf)])
        #expect((200..<400).contains(denied.status), "\(denied.status)")
        #expect(login.wait(timeout: 30) == 3, "\(login.stderr)")
        #expect(login.stderr.contains("[access_denied]"))
    }

    /// The polls `--verbose` shows that were answered 400 (pending).
    static func polls(_ stderr: String) -> Int {
        stderr.components(separatedBy: "/v1/device/token\n< 400").count - 1
    }

    /// A password login on a terminal says that a browser sign-in exists, before it asks.
    @Test func aPasswordLoginOnATerminalMentionsTheWeb() throws {
        let server = try startServer()
        defer { server.stop() }
        let command = [Run.binary, "login", "--api-url", server.url, "--storage", "file"].map { "'\($0)'" }.joined(separator: " ")
        let login = try Run.process("/usr/bin/script", ["-qec", command, "/dev/null"], environment: sandbox.environment,
                                    stdin: "alice\nalice-password\n")
        #expect(login.status == 0, "\(login.stdout)")
        let hint = try #require(login.stdout.range(of: "(or sign in from a browser: dev-infra login --web)"), "\(login.stdout)")
        let question = try #require(login.stdout.range(of: "Username for"))
        #expect(hint.lowerBound < question.lowerBound)
    }
}
