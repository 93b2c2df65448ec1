import DevInfraCore
import Foundation
import Testing
@testable import DevInfraCLI

/// Where `login --oidc` and `exec --oidc` find the token, in the documented order, and what they
/// say when there is none; no network: the GitHub Actions request goes to a recorder.
struct OIDCTokenSourceTests {
    static let jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJyZXBvOmFjbWUvd2ViIn0.c2lnbmF0dXJl"
    static let other = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJvdGhlciJ9.b3RoZXI"

    /// What the fake token endpoint was asked.
    actor Recorder {
        var requests: [(url: String, headers: [String: String])] = []
        func record(_ url: String, _ headers: [(name: String, value: String)]) {
            requests.append((url, Dictionary(headers.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })))
        }
    }

    func makeSource(_ environment: [String: String], files: [String: String] = [:], status: Int = 200,
                body: String = #"{"count":1,"value":"\#(OIDCTokenSourceTests.jwt)"}"#) -> (OIDCTokenSource, Recorder) {
        let recorder = Recorder()
        let source = OIDCTokenSource(environment: environment, readFile: { files[$0].map { Data($0.utf8) } }) { url, headers in
            await recorder.record(url, headers)
            return (status, Data(body.utf8))
        }
        return (source, recorder)
    }

    static let actions = ["ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.example/idtoken?api-version=2.0",
                          "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token"]

    @Test func aFileWinsOverEveryOtherSourceAndItsNewlineIsDropped() async throws {
        let (source, recorder) = makeSource(Self.actions.merging(["DEV_INFRA_OIDC_TOKEN": Self.other, "MINE": Self.other]) { $1 },
                                        files: ["/run/token": Self.jwt + "\n"])
        let found = try await source.token(file: "/run/token", variable: nil, audience: "dev-infra")
        #expect(found.token == Self.jwt && found.origin == .file("/run/token"))
        #expect(await recorder.requests.isEmpty, "GitHub is not asked")
    }

    @Test func aNamedVariableWinsOverGitHubActions() async throws {
        let (source, recorder) = makeSource(Self.actions.merging(["MINE": Self.other]) { $1 })
        let found = try await source.token(file: nil, variable: "MINE", audience: "dev-infra")
        #expect(found.token == Self.other && found.origin == .variable("MINE"))
        #expect(await recorder.requests.isEmpty)
    }

    @Test func githubActionsIsAskedForTheAudienceWithTheRequestToken() async throws {
        let (source, recorder) = makeSource(Self.actions.merging(["DEV_INFRA_OIDC_TOKEN": Self.other]) { $1 })
        let found = try await source.token(file: nil, variable: nil, audience: "api://dev infra")
        #expect(found.token == Self.jwt && found.origin == .githubActions)
        let request = try #require(await recorder.requests.first)
        #expect(request.url == "https://pipelines.example/idtoken?api-version=2.0&audience=api://dev%20infra")
        #expect(request.headers["Authorization"] == "bearer request-token")
    }

    @Test func aURLWithoutAQueryGetsOne() async throws {
        let (source, recorder) = makeSource(["ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:8123/token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"])
        _ = try await source.token(file: nil, variable: nil, audience: "dev-infra")
        #expect(await recorder.requests.first?.url == "http://127.0.0.1:8123/token?audience=dev-infra")
    }

    @Test func theDefaultVariableIsTheLastResort() async throws {
        let (source, _) = makeSource(["DEV_INFRA_OIDC_TOKEN": " \(Self.jwt)\n"])
        let found = try await source.token(file: nil, variable: nil, audience: "dev-infra")
        #expect(found.token == Self.jwt && found.origin == .variable("DEV_INFRA_OIDC_TOKEN"))
    }

    @Test func noTokenAnywhereIsAUsageErrorThatSaysWhatToSet() async throws {
        let (source, _) = makeSource(["DEV_INFRA_OIDC_TOKEN": ""])
        let error = await #expect(throws: OIDCTokenError.self) { try await source.token(file: nil, variable: nil, audience: "dev-infra") }
        #expect(error == .missing && error?.exitStatus == .usage)
        for word in ["--oidc-token-file", "--oidc-token-env", "DEV_INFRA_OIDC_TOKEN", "id-token: write"] {
            #expect(error?.message.contains(word) == true, "the message names \(word)")
        }
    }

    @Test func aSourceNamedByAFlagMustGiveAToken() async throws {
        let (source, _) = makeSource(["DEV_INFRA_OIDC_TOKEN": Self.jwt])
        await #expect(throws: OIDCTokenError.unreadableFile("/nope")) { try await source.token(file: "/nope", variable: nil, audience: "a") }
        await #expect(throws: OIDCTokenError.unsetVariable("UNSET")) { try await source.token(file: nil, variable: "UNSET", audience: "a") }
    }

    @Test func whatIsNotAJWTIsRefusedBeforeAnyoneIsAsked() async throws {
        let (source, _) = makeSource(["DEV_INFRA_OIDC_TOKEN": "dinf_notajwt"], files: ["/t": "a.b"])
        let fromVariable = await #expect(throws: OIDCTokenError.self) { try await source.token(file: nil, variable: nil, audience: "a") }
        #expect(fromVariable?.exitStatus == .usage && fromVariable?.message.contains("not a JWT") == true)
        await #expect(throws: OIDCTokenError.self) { try await source.token(file: "/t", variable: nil, audience: "a") }
    }

    @Test func githubActionsFailuresSayWhatHappened() async throws {
        let (refused, _) = makeSource(Self.actions, status: 403, body: "{}")
        await #expect(throws: OIDCTokenError.actionsRefused(status: 403)) { try await refused.token(file: nil, variable: nil, audience: "a") }
        let (empty, _) = makeSource(Self.actions, body: #"{"count":0}"#)
        await #expect(throws: OIDCTokenError.actionsAnswer) { try await empty.token(file: nil, variable: nil, audience: "a") }
        let (halfSet, _) = makeSource(["ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.example/idtoken"])
        await #expect(throws: OIDCTokenError.actionsTokenMissing) { try await halfSet.token(file: nil, variable: nil, audience: "a") }
        #expect(OIDCTokenError.actionsRefused(status: 403).exitStatus == .unavailable)
    }

    @Test func theRequestTokenIsNeverSentInClearOverANetwork() async throws {
        let (source, recorder) = makeSource(["ACTIONS_ID_TOKEN_REQUEST_URL": "http://pipelines.example/idtoken", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"])
        await #expect(throws: OIDCTokenError.actionsURLRefused) { try await source.token(file: nil, variable: nil, audience: "a") }
        #expect(await recorder.requests.isEmpty)
    }
}
