import DevInfraCore
import Foundation
import Testing

/// A CI job trades its OIDC token for a short-lived key of an integration: the real server and the
/// real `dev-infra`, against a small OpenID provider that plays GitHub Actions (`OIDCProvider`).
@Suite struct OIDCExchangeTests {
    let sandbox = Sandbox()

    /// A server with team web, integration web/deploy-bot (made by alice, a team admin of web) and
    /// the admin's trust policy web-main for the provider's tokens of acme/web's main branch.
    struct Fixture {
        let server: ServerProcess
        let provider: OIDCProvider
        let admin: String
        var url: [String: String] { ["DEV_INFRA_API_URL": server.url] }
        /// What a GitHub Actions job with `permissions: id-token: write` has in its environment.
        var ci: [String: String] { url.merging(provider.actionsEnvironment) { $1 } }
        var asAdmin: [String: String] { url.merging(["DEV_INFRA_API_KEY": admin]) { $1 } }
    }

    func setUp() async throws -> Fixture {
        let provider = try await OIDCProvider.start()
        let server = try ServerProcess(folder: sandbox.root + "/server")
        let admin = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .newlines)
        let fixture = Fixture(server: server, provider: provider, admin: admin)
        #expect(try server.admin(["admin", "team", "add", "web"]).status == 0)
        let alice = try server.admin(["admin", "user", "add", "alice", "--team-admin", "web"], stdin: "pw-alice\n")
        #expect(alice.status == 0, "\(alice.stderr)")
        let (_, signIn) = try server.request("POST", "/v1/auth/token", body: #"{"username":"alice","password":"pw-alice"}"#)
        let aliceToken = try #require(signIn["access_token"] as? String)
        let (_, created) = try server.request("POST", "/v1/keys", key: aliceToken,
                                              body: #"{"name":"alice-cli","scopes":["keys:read","keys:write","projects:read"],"team":"web","expires_in":86400}"#)
        let aliceKey = try #require(created["api_key"] as? String)

        let integration = try sandbox.devInfra(["integration", "create", "web/deploy-bot", "--scope", "projects:read", "--scope", "keys:read"],
                                               extra: fixture.url.merging(["DEV_INFRA_API_KEY": aliceKey]) { $1 })
        #expect(integration.status == 0, "\(integration.stderr)")
        let policy = try sandbox.devInfra(["oidc-policy", "create", "--name", "web-main", "--issuer", provider.issuer, "--audience", "dev-infra",
                                           "--claim", "repository=acme/web", "--claim", "ref=refs/heads/main",
                                           "--integration", "web/deploy-bot", "--scope", "projects:read", "--lifetime", "15m"],
                                          extra: fixture.asAdmin)
        #expect(policy.status == 0, "\(policy.stderr)")
        return fixture
    }

    /// The key after `DEV_INFRA_API_KEY=` on stdout (`--print-env`).
    static func printedKey(_ result: RunResult) -> String? {
        guard let range = result.stdout.range(of: "DEV_INFRA_API_KEY=") else { return nil }
        let key = result.stdout[range.upperBound...].prefix { !$0.isWhitespace && $0 != "'" && $0 != "\"" }
        return key.isEmpty ? nil : String(key)
    }

    static func json(_ result: RunResult) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
    }

    static func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// Who a key says it is (`GET /v1/whoami` through `dev-infra api`).
    func whoami(_ fixture: Fixture, key: String? = nil) throws -> [String: Any] {
        var environment = fixture.url
        if let key { environment["DEV_INFRA_API_KEY"] = key }
        let result = try sandbox.devInfra(["api", "/v1/whoami"], extra: environment)
        #expect(result.status == 0, "\(result.stderr)")
        return Self.json(result)
    }

    /// The audit rows of `event` (as an admin reads them).
    func audit(_ fixture: Fixture, event: String) throws -> [[String: Any]] {
        let result = try sandbox.devInfra(["api", "/v1/audit?event=\(event)&limit=200"], extra: fixture.asAdmin)
        #expect(result.status == 0, "\(result.stderr)")
        return Self.json(result)["items"] as? [[String: Any]] ?? []
    }

    @Test func aCIJobGetsAShortLivedKeyOfTheIntegrationThroughKeyRotationAndES256() async throws {
        let fixture = try await setUp()
        let (server, provider) = (fixture.server, fixture.provider)
        defer { server.stop(); provider.stop() }

        // --print-env: the key on stdout, nothing stored.
        let printed = try sandbox.devInfra(["login", "--oidc", "--print-env"], extra: fixture.ci)
        #expect(printed.status == 0, "\(printed.stderr)")
        let key = try #require(Self.printedKey(printed), "\(printed.stdout)")
        #expect(key.hasPrefix("dinf_") && !printed.stderr.contains(key))
        #expect(!FileManager.default.fileExists(atPath: sandbox.credentialsFile), "--print-env stores nothing")
        let keyID = try APIKey.parse(key).keyID
        let me = try whoami(fixture, key: key)
        #expect(me["user"] as? String == "web/deploy-bot" && me["team"] as? String == "web", "\(me)")
        #expect(me["scopes"] as? [String] == ["projects:read"], "the policy's scopes, not the integration's")

        // The key: the integration's, minted by the policy, for 15 minutes.
        let shown = try sandbox.devInfra(["show", keyID, "--json"], extra: fixture.asAdmin)
        #expect(shown.status == 0, "\(shown.stderr)")
        let view = Self.json(shown)
        #expect(view["owner"] as? String == "web/deploy-bot" && view["owner_kind"] as? String == "integration", "\(view)")
        #expect(view["created_by"] as? String == "oidc:web-main" && view["team"] as? String == "web")
        #expect(view["scopes"] as? [String] == ["projects:read"] && view["state"] as? String == "active")
        let createdAt = try #require(Self.date(view["created_at"]))
        let expiresAt = try #require(Self.date(view["expires_at"]))
        #expect(abs(expiresAt.timeIntervalSince(createdAt) - 900) <= 1, "lives the policy's 15 minutes")
        #expect(expiresAt <= Date().addingTimeInterval(15 * 60 + 5))
        #expect(provider.requests.token == 1 && provider.requests.discovery == 1 && provider.requests.jwks == 1)

        // Without --print-env the key is stored, as `login` stores one.
        let stored = try sandbox.devInfra(["login", "--oidc", "--storage", "file"], extra: fixture.ci)
        #expect(stored.status == 0, "\(stored.stderr)")
        #expect(sandbox.mode(sandbox.credentialsFile) == 0o600)
        let token = try sandbox.devInfra(["token"], extra: fixture.url)
        #expect(token.status == 0, "\(token.stderr)")
        let storedKey = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(storedKey.hasPrefix("dinf_") && storedKey != key, "a new key for each exchange")
        #expect(try whoami(fixture)["user"] as? String == "web/deploy-bot", "the profile's key is the integration's")

        // exec --oidc: the command gets a fresh key in its environment.
        let exec = try sandbox.devInfra(["exec", "--oidc", "--", "/bin/sh", "-c", "echo \"$DEV_INFRA_API_KEY\""], extra: fixture.ci)
        #expect(exec.status == 0, "\(exec.stderr)")
        let execKey = exec.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(execKey.hasPrefix("dinf_") && execKey != key && execKey != storedKey)
        #expect(try whoami(fixture, key: execKey)["user"] as? String == "web/deploy-bot")
        // Three exchanges, one fetch of the provider's keys: the server keeps them.
        #expect(provider.requests.token == 3 && provider.requests.jwks == 1, "\(provider.requests)")

        // The provider rotates its key. (The server refetches keys for an unknown kid at most every
        // 30 s; its clock moves on so that this test does not depend on when the last fetch was.)
        let retired = provider.signer
        try server.advanceClock(31)
        try await provider.rotate()
        #expect(provider.signer.kid != retired.kid)
        let rotated = try sandbox.devInfra(["login", "--oidc", "--print-env"], extra: fixture.ci)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let rotatedKey = try #require(Self.printedKey(rotated))
        #expect(try whoami(fixture, key: rotatedKey)["user"] as? String == "web/deploy-bot")
        #expect(provider.requests.jwks == 2, "the new kid made the server fetch the keys again")

        // A token of the retired key (gone from the JWKS) no longer works.
        let stalePath = sandbox.root + "/stale.jwt"
        try sandbox.write(stalePath, try provider.jobToken(signer: retired), mode: 0o600)
        let stale = try sandbox.devInfra(["login", "--oidc", "--print-env", "--oidc-token-file", stalePath], extra: fixture.url)
        #expect(stale.status == 3 && stale.stderr.contains("[oidc_invalid_token]") && stale.stdout.isEmpty, "\(stale.stderr)")

        // ES256 works as well as RS256.
        try server.advanceClock(31)
        try await provider.useES256()
        let es256 = try sandbox.devInfra(["login", "--oidc", "--print-env"], extra: fixture.ci)
        #expect(es256.status == 0, "\(es256.stderr)")
        let es256Key = try #require(Self.printedKey(es256))
        #expect(try whoami(fixture, key: es256Key)["user"] as? String == "web/deploy-bot")

        // With no token anywhere, the command says what to set.
        let none = try sandbox.devInfra(["login", "--oidc", "--print-env"], extra: fixture.url)
        #expect(none.status == 64 && none.stderr.contains("DEV_INFRA_OIDC_TOKEN") && none.stderr.contains("ACTIONS_ID_TOKEN_REQUEST_URL"),
                "\(none.stderr)")

        // Each exchange is audited with the integration, the policy, and the key it made.
        let minted = Set([key, storedKey, execKey, rotatedKey, es256Key].map { try? APIKey.parse($0).keyID })
        let rows = try audit(fixture, event: "key.created").filter { $0["credential"] as? String == "oidc:web-main" }
        #expect(rows.count == 5, "\(rows)")
        #expect(rows.allSatisfy { $0["target"] as? String == "web/deploy-bot" && $0["team"] as? String == "web" }, "\(rows)")
        #expect(Set(rows.map { $0["key_id"] as? String }) == minted)
        #expect(rows.allSatisfy { ($0["actor"] as? String)?.contains("repo:acme/web:ref:refs/heads/main") == true }, "the job's sub")
    }

    @Test func refusedTokensSayWhyExitWithTheirStatusAndAreAudited() async throws {
        let fixture = try await setUp()
        let (server, provider) = (fixture.server, fixture.provider)
        defer { server.stop(); provider.stop() }
        var tokens: [String] = []
        func file(_ name: String, _ token: String) throws -> String {
            tokens.append(token)
            let path = sandbox.root + "/" + name
            try sandbox.write(path, token, mode: 0o600)
            return path
        }

        // A token for another audience (asked of GitHub with --audience): no policy accepts it.
        let audience = try sandbox.devInfra(["login", "--oidc", "--print-env", "--audience", "something-else"], extra: fixture.ci)
        #expect(audience.status == 3 && audience.stderr.contains("[oidc_audience_mismatch]") && audience.stdout.isEmpty, "\(audience.stderr)")

        // An expired token, from a file.
        let now = Int(Date().timeIntervalSince1970)
        let expiredPath = try file("expired.jwt", try provider.jobToken(["iat": .int(now - 900), "nbf": .int(now - 900), "exp": .int(now - 600)]))
        let expired = try sandbox.devInfra(["login", "--oidc", "--print-env", "--oidc-token-file", expiredPath], extra: fixture.url)
        #expect(expired.status == 3 && expired.stderr.contains("[oidc_token_expired]"), "\(expired.stderr)")

        // Issued in the future (beyond the minute of clock skew allowed).
        let futurePath = try file("future.jwt", try provider.jobToken(["iat": .int(now + 600), "nbf": .int(now + 600), "exp": .int(now + 900)]))
        let future = try sandbox.devInfra(["login", "--oidc", "--print-env", "--oidc-token-file", futurePath], extra: fixture.url)
        #expect(future.status == 3 && future.stderr.contains("[oidc_token_expired]"), "\(future.stderr)")

        // The same token twice: the second exchange is a replay.
        let oncePath = try file("once.jwt", try provider.jobToken())
        let first = try sandbox.devInfra(["login", "--oidc", "--print-env", "--oidc-token-file", oncePath], extra: fixture.url)
        #expect(first.status == 0, "\(first.stderr)")
        let firstKey = try #require(Self.printedKey(first))
        let again = try sandbox.devInfra(["login", "--oidc", "--print-env", "--oidc-token-file", oncePath], extra: fixture.url)
        #expect(again.status == 3 && again.stderr.contains("[oidc_replay]") && again.stdout.isEmpty, "\(again.stderr)")

        // A feature branch's job, from an environment variable: the policy's ref condition fails.
        let feature = try provider.jobToken(["ref": "refs/heads/feature", "sub": "repo:acme/web:ref:refs/heads/feature"])
        tokens.append(feature)
        let claims = try sandbox.devInfra(["login", "--oidc", "--print-env", "--oidc-token-env", "CI_OIDC_TOKEN"],
                                          extra: fixture.url.merging(["CI_OIDC_TOKEN": feature]) { $1 })
        #expect(claims.status == 4 && claims.stderr.contains("[oidc_claims_mismatch]"), "\(claims.stderr)")

        // The token endpoint now hands out feature-branch tokens too.
        provider.setTokenEndpointChanges(["ref": "refs/heads/feature"])
        let featureJob = try sandbox.devInfra(["exec", "--oidc", "--", "/bin/sh", "-c", "echo should-not-run"], extra: fixture.ci)
        #expect(featureJob.status == 4 && featureJob.stderr.contains("[oidc_claims_mismatch]") && !featureJob.stdout.contains("should-not-run"),
                "\(featureJob.stderr)")
        provider.setTokenEndpointChanges([:])

        // An issuer no policy names, from DEV_INFRA_OIDC_TOKEN: refused before the server fetches anything.
        let requestsBefore = provider.requests
        let foreign = try provider.jobToken(["iss": "http://127.0.0.1:9/someone-else"])
        tokens.append(foreign)
        let untrusted = try sandbox.devInfra(["login", "--oidc", "--print-env"], extra: fixture.url.merging(["DEV_INFRA_OIDC_TOKEN": foreign]) { $1 })
        #expect(untrusted.status == 3 && untrusted.stderr.contains("[oidc_untrusted_issuer]"), "\(untrusted.stderr)")
        #expect(provider.requests.discovery == requestsBefore.discovery && provider.requests.jwks == requestsBefore.jwks)

        // No refusal repeats the token, on either stream, nor in the server's log.
        let log = try String(contentsOfFile: server.logPath, encoding: .utf8)
        for token in tokens {
            let signature = String(token.split(separator: ".").last ?? "")
            for text in [audience.stderr, expired.stderr, future.stderr, again.stderr, claims.stderr, featureJob.stderr, untrusted.stderr, log] {
                #expect(!text.contains(signature), "a token's signature was echoed")
            }
        }

        // The audit counts every refusal with its reason code, and holds the one exchange that worked.
        let refusals = try audit(fixture, event: "oidc.refused")
        let codes = Set(refusals.compactMap { $0["code"] as? String })
        #expect(codes.isSuperset(of: ["oidc_audience_mismatch", "oidc_token_expired", "oidc_replay", "oidc_claims_mismatch", "oidc_untrusted_issuer"]),
                "\(refusals)")
        let exchanged = try audit(fixture, event: "key.created").filter { $0["credential"] as? String == "oidc:web-main" }
        #expect(exchanged.count == 1 && exchanged.first?["key_id"] as? String == (try? APIKey.parse(firstKey).keyID), "\(exchanged)")
        #expect(exchanged.first?["target"] as? String == "web/deploy-bot")
    }
}
