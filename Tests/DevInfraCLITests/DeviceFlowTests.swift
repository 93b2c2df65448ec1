import DevInfraCore
import Foundation
import Testing
@testable import DevInfraCLI
@testable import DevInfraClient

/// `login --web`'s waiting (RFC 8628 §3.5) without a server or a real clock: the poll answers come
/// from a script, the sleeper moves a fake clock, and what the loop slept is recorded.
struct DeviceFlowTests {
    /// A clock that moves only when the flow sleeps, and the record of those sleeps.
    final class FakeTime: @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_800_000_000)
        private var slept: [Int] = []

        var now: Date { lock.lock(); defer { lock.unlock() }; return current }
        var sleeps: [Int] { lock.lock(); defer { lock.unlock() }; return slept }

        func sleep(_ seconds: Int) {
            lock.lock()
            defer { lock.unlock() }
            slept.append(seconds)
            current = current.addingTimeInterval(Double(seconds))
        }

        var flow: DeviceFlow {
            DeviceFlow(now: { self.now }, sleep: { self.sleep($0) })
        }
    }

    /// The token endpoint, answering from a script (the last answer repeats), counting the polls.
    actor FakeTransport {
        private var script: [Result<DeviceTokenAnswer, RemoteError>]
        private(set) var polls = 0
        init(_ script: [Result<DeviceTokenAnswer, RemoteError>]) { self.script = script }

        func poll() throws -> DeviceTokenAnswer {
            polls += 1
            let next = script.count > 1 ? script.removeFirst() : script[0]
            return try next.get()
        }
    }

    static let authorization = DeviceAuthorization(deviceCode: "device-secret", userCode: "WDJB-MJHT",
                                                   verificationURI: "http://127.0.0.1:8080/device",
                                                   verificationURIComplete: "http://127.0.0.1:8080/device?user_code=WDJB-MJHT",
                                                   expiresIn: 600, interval: 5)
    static let key = "dinf_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBCCCCCC"

    func run(_ script: [Result<DeviceTokenAnswer, RemoteError>], authorization: DeviceAuthorization = authorization)
        async throws -> (DeviceFlow.Issued, FakeTime, FakeTransport) {
        let time = FakeTime()
        let transport = FakeTransport(script)
        let issued = try await time.flow.waitForKey(authorization, started: time.now) { try await transport.poll() }
        return (issued, time, transport)
    }

    /// What `run` threw, as the CLI's main would print it and exit with it.
    func failure(_ script: [Result<DeviceTokenAnswer, RemoteError>], authorization: DeviceAuthorization = authorization)
        async -> (error: (any DevInfraError)?, time: FakeTime, polls: Int) {
        let time = FakeTime()
        let transport = FakeTransport(script)
        do {
            _ = try await time.flow.waitForKey(authorization, started: time.now) { try await transport.poll() }
            return (nil, time, await transport.polls)
        } catch {
            return (error as? any DevInfraError, time, await transport.polls)
        }
    }

    @Test func pendingThenSlowDownThenTheKey() async throws {
        let (issued, time, transport) = try await run([.success(.pending), .success(.slowDown),
                                                      .success(.issued(accessToken: Self.key, keyID: "AAAAAAAAAAAA", keyName: "dev-infra CLI on box"))])
        #expect(issued == DeviceFlow.Issued(accessToken: Self.key, keyID: "AAAAAAAAAAAA", keyName: "dev-infra CLI on box"))
        #expect(await transport.polls == 3)
        // The first poll waits the interval too; slow_down adds 5 s for every poll after it.
        #expect(time.sleeps == [5, 5, 10])
    }

    @Test func everySlowDownAddsFiveSeconds() async throws {
        let (_, time, _) = try await run([.success(.slowDown), .success(.slowDown), .success(.pending),
                                          .success(.issued(accessToken: Self.key, keyID: nil, keyName: nil))])
        #expect(time.sleeps == [5, 10, 15, 15])
    }

    @Test func aDenialExitsThreeWithAccessDenied() async throws {
        let (error, _, polls) = await failure([.success(.pending), .success(.denied)])
        let denied = try #require(error)
        #expect(denied.reason == .accessDenied)
        #expect(denied.exitStatus == .notAuthenticated && denied.exitStatus.rawValue == 3)
        #expect(denied.description.hasSuffix("[access_denied]"))
        #expect(polls == 2)
    }

    @Test func anExpiredCodeExitsThreeWithExpiredToken() async throws {
        let (error, _, _) = await failure([.success(.expired)])
        let expired = try #require(error)
        #expect(expired.reason == .expiredToken && expired.exitStatus.rawValue == 3)
        #expect(expired.description.contains("WDJB-MJHT") && expired.description.hasSuffix("[expired_token]"))
    }

    @Test func nobodyAnsweringEndsWhenTheCodeExpires() async throws {
        var authorization = Self.authorization
        authorization.expiresIn = 30
        let (error, time, polls) = await failure([.success(.pending)], authorization: authorization)
        #expect(error?.reason == .expiredToken)
        // Polls at 5, 10, ... 25 s; the sixth wait reaches 30 s, when the code is dead: no poll then.
        #expect(polls == 5)
        #expect(time.sleeps == [5, 5, 5, 5, 5, 5])
    }

    @Test func anIntervalOutOfBoundsIsClampedAndAMissingOneIsFive() async throws {
        var authorization = Self.authorization
        authorization.interval = 0
        let (_, fast, _) = try await run([.success(.issued(accessToken: Self.key, keyID: nil, keyName: nil))], authorization: authorization)
        #expect(fast.sleeps == [1])
        authorization.interval = nil
        let (_, missing, _) = try await run([.success(.issued(accessToken: Self.key, keyID: nil, keyName: nil))], authorization: authorization)
        #expect(missing.sleeps == [5])
    }

    @Test func anotherOAuthErrorIsTheServersRefusalWithItsCode() async throws {
        let (error, _, _) = await failure([.success(.refused(status: 400, error: "invalid_grant", description: "no such device_code"))])
        let refused = try #require(error)
        #expect(refused.code == "invalid_grant")
        #expect(refused.description.contains("no such device_code"))
        #expect(refused.exitStatus == .failure)
    }

    @Test func aFewNetworkFailuresAreWaitedOut() async throws {
        let down = RemoteError.unreachable(url: "http://127.0.0.1:1", detail: "connection refused")
        let (issued, _, transport) = try await run([.failure(down), .failure(.unexpected(status: 502, detail: "")), .success(.pending),
                                                    .success(.issued(accessToken: Self.key, keyID: nil, keyName: nil))])
        #expect(issued.accessToken == Self.key)
        #expect(await transport.polls == 4)
        let (error, _, polls) = await failure([.failure(down)])
        #expect(error?.reason == .serverUnreachable)
        #expect(polls == DeviceFlow.transientFailures)
    }

    @Test func aRateLimitSlowsDownLikeSlowDown() async throws {
        let limited = RemoteError.problem(status: 429, code: "rate_limited", detail: "slow", scope: nil, retryAfter: 1)
        let (_, time, _) = try await run([.failure(limited), .success(.issued(accessToken: Self.key, keyID: nil, keyName: nil))])
        #expect(time.sleeps == [5, 10])
    }

    @Test func theNewCodesAreClientSideAndExitThree() {
        for reason in [ReasonCode.accessDenied, .expiredToken] {
            #expect(reason.httpStatus == nil)
            #expect(reason.exitStatus == .notAuthenticated)
        }
        #expect(ReasonCode.accessDenied.rawValue == "access_denied" && ReasonCode.expiredToken.rawValue == "expired_token")
    }

    @Test func remainingTimeReadsAsMinutesAndSeconds() {
        let now = Date(timeIntervalSince1970: 0)
        #expect(WebLogin.remaining(until: now.addingTimeInterval(598), now: now) == "9m 58s")
        #expect(WebLogin.remaining(until: now.addingTimeInterval(42), now: now) == "42s")
        #expect(WebLogin.remaining(until: now.addingTimeInterval(-3), now: now) == "0s")
    }
}

/// The device endpoints' wire format: forms as browsers encode them, RFC 6749 error objects read.
struct DeviceWireTests {
    @Test func formsAreEncodedAsTheWHATWGSays() {
        let form = DevInfraAPI.formEncoded([("scope", "keys:read keys:write"), ("machine", "Zoë's box/1"), ("grant_type", DevInfraAPI.deviceGrantType)])
        #expect(form == "scope=keys%3Aread+keys%3Awrite&machine=Zo%C3%AB%27s+box%2F1&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code")
    }

    @Test func oauthErrorsAreReadAndOddOnesAreNot() {
        let slowDown = DevInfraAPI.oauthError(Data(#"{"error":"slow_down","error_description":"poll every 10 s"}"#.utf8))
        #expect(slowDown?.error == "slow_down" && slowDown?.description == "poll every 10 s")
        #expect(DevInfraAPI.oauthError(Data(#"{"error":"access_denied"}"#.utf8))?.error == "access_denied")
        #expect(DevInfraAPI.oauthError(Data(#"{"error":"\u001b[2Jx"}"#.utf8)) == nil, "a code that is not snake case is not trusted")
        #expect(DevInfraAPI.oauthError(Data(#"{"type":"about:blank","code":"rate_limited"}"#.utf8)) == nil)
    }

    @Test func aProblemFromADeviceEndpointKeepsItsCode() {
        let error = DevInfraAPI.deviceError(status: 429, retryAfter: "3",
                                            body: Data(#"{"type":"about:blank","status":429,"code":"rate_limited","detail":"slow"}"#.utf8))
        #expect(error == .problem(status: 429, code: "rate_limited", detail: "slow", scope: nil, retryAfter: 3))
        let oauth = DevInfraAPI.deviceError(status: 401, retryAfter: nil, body: Data(#"{"error":"invalid_client"}"#.utf8))
        #expect(oauth.code == "invalid_client" && oauth.exitStatus == .notAuthenticated)
    }
}

/// Which browser `login --web` opens, if any; nothing is started.
struct BrowserOpenerTests {
    static let url = "https://keys.example.com/device?user_code=WDJB-MJHT"

    func opener(_ environment: [String: String], programs: Set<String> = []) -> BrowserOpener {
        BrowserOpener(environment: environment.merging(["PATH": "/usr/local/bin:/usr/bin"]) { $1 },
                      isExecutable: { programs.contains($0) }, launch: { _, _, _ in })
    }

    @Test func browserWinsAndGetsTheURL() {
        let chosen = opener(["BROWSER": "firefox --new-window", "DISPLAY": ":0"], programs: ["/usr/bin/firefox", "/usr/bin/xdg-open"])
            .choice(for: Self.url)
        #expect(chosen == .run(path: "/usr/bin/firefox", arguments: ["--new-window", Self.url]))
    }

    @Test func percentSStandsForTheURLAndTheFirstProgramFoundWins() {
        let chosen = opener(["BROWSER": "nosuch:w3m -o %s"], programs: ["/usr/local/bin/w3m"]).choice(for: Self.url)
        #expect(chosen == .run(path: "/usr/local/bin/w3m", arguments: ["-o", Self.url]))
    }

    @Test func xdgOpenOnlyOnAGraphicalSession() {
        let programs: Set<String> = ["/usr/bin/xdg-open"]
        #expect(opener(["WAYLAND_DISPLAY": "wayland-0"], programs: programs).choice(for: Self.url) == .run(path: "/usr/bin/xdg-open", arguments: [Self.url]))
        #expect(opener(["DISPLAY": ":0"], programs: programs).choice(for: Self.url) == .run(path: "/usr/bin/xdg-open", arguments: [Self.url]))
        guard case .unavailable = opener([:], programs: programs).choice(for: Self.url) else { Issue.record("no display: no browser"); return }
        guard case .unavailable = opener(["DISPLAY": ":0"]).choice(for: Self.url) else { Issue.record("no xdg-open: no browser"); return }
    }

    @Test func onlyHTTPSOrLoopbackHTTPIsOpened() {
        let browser = opener(["BROWSER": "firefox"], programs: ["/usr/bin/firefox"])
        guard case .unavailable = browser.choice(for: "http://evil.example/device") else { Issue.record("plain http to a remote host"); return }
        guard case .unavailable = browser.choice(for: "file:///etc/passwd") else { Issue.record("a file URL"); return }
        #expect(browser.choice(for: "http://127.0.0.1:8080/device") == .run(path: "/usr/bin/firefox", arguments: ["http://127.0.0.1:8080/device"]))
    }

    @Test func aLaunchThatFailsIsANoteNotAnError() {
        struct Failed: Error {}
        let failing = BrowserOpener(environment: ["BROWSER": "/opt/b", "PATH": "/usr/bin"], isExecutable: { $0 == "/opt/b" },
                                    launch: { _, _, _ in throw Failed() })
        #expect(failing.open(Self.url) != nil)
        #expect(opener(["BROWSER": "/opt/b"], programs: ["/opt/b"]).open(Self.url) == nil)
    }
}
