import Foundation
import JWTKit
import NIOConcurrencyHelpers
import Testing
@testable import KeyServer

/// Claim patterns, and what `OIDCVerifier` decides before it trusts anything in a token: its form,
/// its algorithm, its issuer (before any fetch), its claims and times; then, with an issuer whose
/// keys come from the test instead of the network, signatures, the key cache and key rotation.
@Suite struct OIDCVerifierTests {
    static let issuer = "https://token.actions.githubusercontent.com"

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A GitHub Actions job's claims at `now`, with `set` and without `remove`, as JSON.
    static func payload(now: Date, set: [String: Any] = [:], remove: [String] = []) -> String {
        let time = Int(now.timeIntervalSince1970)
        var object: [String: Any] = ["iss": issuer, "sub": "repo:acme/web:ref:refs/heads/main", "aud": "dev-infra", "jti": UUID().uuidString,
                                     "iat": time, "nbf": time, "exp": time + 300, "repository": "acme/web", "ref": "refs/heads/main"]
        for (name, value) in set { object[name] = value }
        for name in remove { object[name] = nil }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A token with this header and payload and a signature that checks nothing.
    static func token(header: String = #"{"alg":"RS256","kid":"k1","typ":"JWT"}"#, _ payload: String) -> String {
        base64URL(Data(header.utf8)) + "." + base64URL(Data(payload.utf8)) + "." + base64URL(Data("not a signature".utf8))
    }

    /// The refusal `body` threw, if it was an `APIError`.
    static func refusal(_ body: () async throws -> Void) async -> APIError? {
        do {
            try await body()
            return nil
        } catch {
            return error as? APIError
        }
    }

    /// Counts the fetches of issuers' keys; what they answer is `keys` (nil: the issuer is down).
    final class Issuer: Sendable {
        let fetches = NIOLockedValueBox(0)
        let current = NIOLockedValueBox<OIDCKeySet?>(nil)
        let delay: UInt64

        init(delay: UInt64 = 0) { self.delay = delay }

        func fetch(_ issuer: String) async throws -> OIDCKeySet {
            fetches.withLockedValue { $0 += 1 }
            if delay > 0 { try await Task.sleep(nanoseconds: delay) }
            guard let keys = current.withLockedValue({ $0 }) else { throw OIDCFetcher.unreachable("down") }
            return keys
        }

        var count: Int { fetches.withLockedValue { $0 } }
    }

    // MARK: Claim patterns

    @Test func aPatternIsExactOrAGlobWhereOnlyTheStarIsSpecial() {
        #expect(ClaimPattern.matches("acme/web", "acme/web"))
        #expect(!ClaimPattern.matches("acme/web", "acme/web2"))
        #expect(!ClaimPattern.matches("acme/web", "acme/we"))
        #expect(ClaimPattern.matches("", ""))
        #expect(!ClaimPattern.matches("a", ""))
        #expect(ClaimPattern.matches("refs/tags/v*", "refs/tags/v1.2.3"))
        #expect(ClaimPattern.matches("refs/tags/v*", "refs/tags/v"))
        #expect(!ClaimPattern.matches("refs/tags/v*", "refs/heads/v1"))
        #expect(ClaimPattern.matches("*", "anything at all"))
        #expect(ClaimPattern.matches("*", ""))
        #expect(ClaimPattern.matches("**", "x"))
        #expect(ClaimPattern.matches("*/main", "refs/heads/main"))
        #expect(!ClaimPattern.matches("*/main", "refs/heads/main2"))
        #expect(ClaimPattern.matches("repo:acme/*:ref:refs/heads/main", "repo:acme/web:ref:refs/heads/main"))
        #expect(!ClaimPattern.matches("repo:acme/*:ref:refs/heads/main", "repo:acme/web:ref:refs/heads/feature"))
        #expect(ClaimPattern.matches("a*b*c", "abc"))
        #expect(ClaimPattern.matches("a*b*c", "aXXbYYc"))
        #expect(!ClaimPattern.matches("a*b*c", "acb"))
        #expect(!ClaimPattern.matches("a*a", "a"), "prefix and suffix may not share a character")
        #expect(ClaimPattern.matches("*ab*ab*", "abab"))
        #expect(!ClaimPattern.matches("*ab*ab*", "aba"))
        #expect(ClaimPattern.matches("*aab*", "aaab"), "a partial match that restarts inside itself")
        #expect(ClaimPattern.matches("*abcabd*", "xabcabcabdx"))
        // No other metacharacter: ?, ., [ and \ are themselves.
        #expect(!ClaimPattern.matches("refs/heads/?ain", "refs/heads/main"))
        #expect(ClaimPattern.matches("refs/heads/?ain", "refs/heads/?ain"))
        #expect(!ClaimPattern.matches("a.c", "abc"))
        #expect(!ClaimPattern.matches("[ab]", "a"))
        #expect(ClaimPattern.matches("v1.*", "v1.2"))
        #expect(!ClaimPattern.matches("v1.*", "v1x2"))
        #expect(!ClaimPattern.matches(#"a\*"#, "a*"), "no escapes: the star after a backslash is still a star, and the backslash a backslash")
        #expect(ClaimPattern.matches(#"a\*"#, #"a\anything"#))
        // Bytes, not canonical equivalence: a claim spelled another way is another claim.
        #expect(ClaimPattern.matches("é*", "école"))
        #expect(!ClaimPattern.matches("\u{E9}", "e\u{301}"))
    }

    @Test func manyStarsTakeLinearTime() {
        let value = String(repeating: "a", count: 200_000)
        let pattern = String(repeating: "*a", count: 5_000) + "*b*c"
        let elapsed = ContinuousClock().measure {
            #expect(!ClaimPattern.matches(pattern, value + "c"))
            #expect(ClaimPattern.matches(pattern, value + "bc"))
            #expect(!ClaimPattern.matches(String(repeating: "*ab", count: 5_000) + "*", String(repeating: "a", count: 200_000)))
        }
        #expect(elapsed < .seconds(2), "a backtracking matcher would take ages here: \(elapsed)")
    }

    // MARK: Reading a token without trusting it

    @Test func theHeaderAndClaimsAreReadAndScalarsBecomeText() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let jwt = try UnverifiedJWT(Self.token(Self.payload(now: now, set: [
            "aud": ["dev-infra", "other"], "run_id": 42, "ratio": 1.5, "whole": 5.0, "flag": true, "off": false,
            "list": ["a"], "nested": ["k": "v"], "nothing": NSNull(),
        ])))
        #expect(jwt.algorithm == "RS256" && jwt.keyID == "k1" && jwt.issuer == Self.issuer)
        let token = try jwt.token()
        #expect(token.issuer == Self.issuer && token.subject == "repo:acme/web:ref:refs/heads/main")
        #expect(token.audiences == ["dev-infra", "other"])
        #expect(token.expiresAt == now.addingTimeInterval(300) && token.issuedAt == now)
        #expect(token.claims["repository"] == "acme/web" && token.claims["ref"] == "refs/heads/main")
        #expect(token.claims["run_id"] == "42" && token.claims["ratio"] == "1.5" && token.claims["whole"] == "5")
        #expect(token.claims["flag"] == "true" && token.claims["off"] == "false")
        #expect(token.claims["exp"] == "1800000300" && token.claims["jti"] == token.jti)
        #expect(token.claims["list"] == nil && token.claims["nested"] == nil && token.claims["nothing"] == nil && token.claims["aud"] == nil)
        // One audience as a plain string.
        #expect(try UnverifiedJWT(Self.token(Self.payload(now: now))).token().audiences == ["dev-infra"])
        #expect(try UnverifiedJWT(Self.token(Self.payload(now: now, remove: ["aud"]))).token().audiences == [])
        // ES256 and no kid are read too (the verifier then asks for a kid).
        let es = try UnverifiedJWT(Self.token(header: #"{"alg":"ES256"}"#, Self.payload(now: now)))
        #expect(es.algorithm == "ES256" && es.keyID == nil)
    }

    @Test func whatIsNotACompactJWTIsAnInvalidTokenThatIsNeverQuoted() {
        let good = Self.token(Self.payload(now: Date()))
        let parts = good.split(separator: ".").map(String.init)
        let broken = [
            "", "abc", "a.b", "a.b.c.d", "..", "\(parts[0])..\(parts[2])", "\(parts[0]).\(parts[1]).",
            "@@@@.\(parts[1]).\(parts[2])", "\(parts[0])=.\(parts[1]).\(parts[2])", "\(parts[0]).\(parts[1]).\(parts[2]).",
            "a" + good, // a header that is no longer base64url of JSON
            Self.base64URL(Data("[1,2]".utf8)) + ".\(parts[1]).\(parts[2])",
            "\(parts[0]).\(Self.base64URL(Data("\"text\"".utf8))).\(parts[2])",
            "\(parts[0]).\(Self.base64URL(Data("not json".utf8))).\(parts[2])",
            good + String(repeating: "A", count: UnverifiedJWT.maxLength),
        ]
        for token in broken {
            do {
                _ = try UnverifiedJWT(token)
                Issue.record("accepted a malformed token")
            } catch let error as APIError {
                #expect(error.code == "oidc_invalid_token" && error.status.code == 401)
                #expect(token.isEmpty || !error.detail.contains(token))
            } catch {
                Issue.record("not an APIError: \(error)")
            }
        }
        #expect((try? UnverifiedJWT(good)) != nil)
    }

    @Test func onlyRS256AndES256AreAcceptedAndTheRefusalDoesNotEchoTheAlgorithm() {
        let payload = Self.payload(now: Date())
        let refused = [#"{"alg":"none"}"#, #"{"alg":"HS256","kid":"k1"}"#, #"{"alg":"RS512","kid":"k1"}"#, #"{"alg":"PS256","kid":"k1"}"#,
                       #"{"alg":"ES384","kid":"k1"}"#, #"{"alg":"EdDSA","kid":"k1"}"#, #"{"alg":"rs256","kid":"k1"}"#, #"{"kid":"k1"}"#,
                       #"{"alg":256,"kid":"k1"}"#, #"{"alg":["RS256"],"kid":"k1"}"#]
        for header in refused {
            do {
                _ = try UnverifiedJWT(Self.token(header: header, payload))
                Issue.record("accepted \(header)")
            } catch let error as APIError {
                #expect(error.code == "oidc_invalid_token")
                #expect(!error.detail.contains("HS256") && !error.detail.contains("none") && !error.detail.contains("EdDSA"))
            } catch {
                Issue.record("not an APIError: \(error)")
            }
        }
        for header in [#"{"alg":"RS256","kid":"k1","crit":["b64"]}"#, #"{"alg":"RS256","kid":7}"#] {
            #expect(throws: APIError.self) { try UnverifiedJWT(Self.token(header: header, payload)) }
        }
    }

    @Test func aTokenWithoutAnIssuerOrTheRequiredClaimsIsInvalid() throws {
        let now = Date()
        for payload in [Self.payload(now: now, remove: ["iss"]), Self.payload(now: now, set: ["iss": 42]), Self.payload(now: now, set: ["iss": ""])] {
            #expect(throws: APIError.self) { try UnverifiedJWT(Self.token(payload)) }
        }
        let incomplete = [
            Self.payload(now: now, remove: ["jti"]), Self.payload(now: now, remove: ["sub"]), Self.payload(now: now, remove: ["exp"]),
            Self.payload(now: now, remove: ["iat"]), Self.payload(now: now, set: ["exp": "tomorrow"]), Self.payload(now: now, set: ["iat": true]),
            Self.payload(now: now, set: ["nbf": "now"]), Self.payload(now: now, set: ["aud": 7]), Self.payload(now: now, set: ["aud": ["a", 7] as [Any]]),
            Self.payload(now: now, set: ["jti": ""]), Self.payload(now: now, set: ["sub": ["x"]]), Self.payload(now: now, set: ["exp": 1e300]),
        ]
        for payload in incomplete {
            let jwt = try UnverifiedJWT(Self.token(payload))
            do {
                _ = try jwt.token()
                Issue.record("accepted an incomplete token")
            } catch let error as APIError {
                #expect(error.code == "oidc_invalid_token")
            }
        }
    }

    @Test func expiryNotBeforeAndIssueTimeAllowSixtySecondsOfSkew() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func check(_ set: [String: Any]) -> String? {
            do {
                try UnverifiedJWT(Self.token(Self.payload(now: now, set: set))).checkTimes(now: now, skew: 60)
                return nil
            } catch {
                return (error as? APIError)?.code ?? "\(error)"
            }
        }
        let t = 1_800_000_000
        #expect(check([:]) == nil)
        #expect(check(["exp": t - 59]) == nil)
        #expect(check(["exp": t - 60]) == "oidc_token_expired")
        #expect(check(["exp": t - 3600]) == "oidc_token_expired")
        #expect(check(["nbf": t + 59]) == nil)
        #expect(check(["nbf": t + 61]) == "oidc_token_expired")
        #expect(check(["iat": t + 59, "nbf": t]) == nil)
        #expect(check(["iat": t + 61, "nbf": t]) == "oidc_token_expired")
        #expect(check(["exp": Double(t) + 0.5]) == nil, "NumericDate may have a fraction")
    }

    // MARK: The verifier, before any fetch

    @Test func anUntrustedIssuerIsRefusedWithoutAnyFetch() async throws {
        // The real client and an address where nothing answers: a fetch would take the whole 5 s
        // and end as oidc_issuer_unreachable.
        let verifier = OIDCVerifier(clock: { Date() }, client: OIDCVerifier.client)
        let nowhere = "https://10.255.255.1/unroutable"
        let token = Self.token(Self.payload(now: Date(), set: ["iss": nowhere]))
        let started = ContinuousClock.now
        let error = await Self.refusal { _ = try await verifier.verify(token, trustedIssuers: [Self.issuer]) }
        #expect(error?.code == "oidc_untrusted_issuer" && error?.status.code == 401)
        #expect(ContinuousClock.now - started < .seconds(1), "nothing was fetched")
        #expect(error.map { !$0.detail.contains(nowhere) } ?? false, "the token's issuer is not echoed")
        #expect(await Self.refusal { _ = try await verifier.verify(token, trustedIssuers: []) }?.code == "oidc_untrusted_issuer")

        // With a counting issuer: neither an untrusted issuer, nor a malformed token, nor a refused
        // algorithm, nor missing claims, nor a missing kid make a fetch.
        let issuer = Issuer()
        let counted = OIDCVerifier(clock: { Date() }, fetch: { try await issuer.fetch($0) })
        #expect(await Self.refusal { _ = try await counted.verify(token, trustedIssuers: [Self.issuer]) }?.code == "oidc_untrusted_issuer")
        #expect(await Self.refusal { _ = try await counted.verify("not.a.jwt", trustedIssuers: [Self.issuer]) }?.code == "oidc_invalid_token")
        let hs256 = Self.token(header: #"{"alg":"HS256","kid":"k1"}"#, Self.payload(now: Date()))
        #expect(await Self.refusal { _ = try await counted.verify(hs256, trustedIssuers: [Self.issuer]) }?.code == "oidc_invalid_token")
        let noJTI = Self.token(Self.payload(now: Date(), remove: ["jti"]))
        #expect(await Self.refusal { _ = try await counted.verify(noJTI, trustedIssuers: [Self.issuer]) }?.code == "oidc_invalid_token")
        let noKid = Self.token(header: #"{"alg":"RS256"}"#, Self.payload(now: Date()))
        #expect(await Self.refusal { _ = try await counted.verify(noKid, trustedIssuers: [Self.issuer]) }?.code == "oidc_invalid_token")
        #expect(issuer.count == 0)
    }

    @Test func aTrustedIssuerThatDoesNotAnswerIsUnreachableWithRetryAfter() async throws {
        // Loopback port 1: the connection is refused at once.
        let down = "http://127.0.0.1:1"
        let verifier = OIDCVerifier(clock: { Date() }, client: OIDCVerifier.client)
        let token = Self.token(Self.payload(now: Date(), set: ["iss": down]))
        let error = await Self.refusal { _ = try await verifier.verify(token, trustedIssuers: [down]) }
        #expect(error?.code == "oidc_issuer_unreachable" && error?.status.code == 503 && error?.retryAfter == 5)
        #expect(OIDCFetcher.permits(URL(string: "https://token.actions.githubusercontent.com")!))
        #expect(OIDCFetcher.permits(URL(string: "http://127.0.0.1:8080/x")!) && OIDCFetcher.permits(URL(string: "http://localhost/x")!))
        #expect(!OIDCFetcher.permits(URL(string: "http://token.actions.githubusercontent.com")!))
        #expect(!OIDCFetcher.permits(URL(string: "https://user:pw@example.com/")!) && !OIDCFetcher.permits(URL(string: "file:///etc/passwd")!))
    }

    // MARK: Signatures and the key cache (keys from the test, not the network)

    /// An ES256 key, its JWKS entry and a signer of job tokens with it.
    struct Key {
        let kid: String
        let signers: JWTKeyCollection
        let jwk: String

        init(kid: String) async {
            self.kid = kid
            let privateKey = ES256PrivateKey()
            let parameters = privateKey.publicKey.parameters!
            let collection = JWTKeyCollection()
            await collection.add(ecdsa: privateKey, kid: JWKIdentifier(string: kid))
            signers = collection
            jwk = #"{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"\#(kid)","x":"\#(parameters.x)","y":"\#(parameters.y)"}"#
        }

        func sign(now: Date, kid signedKid: String? = nil, _ change: (inout JobClaims) -> Void = { _ in }) async throws -> String {
            var claims = JobClaims(now: now)
            change(&claims)
            return try await signers.sign(claims, kid: JWKIdentifier(string: signedKid ?? kid))
        }
    }

    struct JobClaims: JWTPayload {
        var iss = OIDCVerifierTests.issuer
        var sub = "repo:acme/web:ref:refs/heads/main"
        var aud = ["dev-infra"]
        var jti = UUID().uuidString
        var iat: Int
        var nbf: Int
        var exp: Int
        var repository = "acme/web"
        var runID = 42
        enum CodingKeys: String, CodingKey { case iss, sub, aud, jti, iat, nbf, exp, repository, runID = "run_id" }

        init(now: Date) {
            iat = Int(now.timeIntervalSince1970)
            nbf = iat
            exp = iat + 300
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func keySet(_ keys: [Key]) async throws -> OIDCKeySet {
        try await OIDCKeySet.parse(Data(#"{"keys":[\#(keys.map(\.jwk).joined(separator: ","))]}"#.utf8))
    }

    @Test func aSignedTokenVerifiesAndTheKeysAreFetchedOnceAndShared() async throws {
        let clock = ManualClock()
        let key = await Key(kid: "k1")
        let issuer = Issuer(delay: 100_000_000)
        let keys = try await Self.keySet([key])
        issuer.current.withLockedValue { $0 = keys }
        let verifier = OIDCVerifier(clock: { clock.read() }, fetch: { try await issuer.fetch($0) })

        // Ten concurrent exchanges of one issuer: one fetch.
        var tokens: [String] = []
        for _ in 0..<10 { tokens.append(try await key.sign(now: clock.read())) }
        let verified = try await withThrowingTaskGroup(of: OIDCToken.self) { group in
            for token in tokens { group.addTask { try await verifier.verify(token, trustedIssuers: [Self.issuer, "https://other"]) } }
            return try await group.reduce(into: [OIDCToken]()) { $0.append($1) }
        }
        #expect(verified.count == 10 && issuer.count == 1)
        let one = try #require(verified.first)
        #expect(one.issuer == Self.issuer && one.subject == "repo:acme/web:ref:refs/heads/main" && one.audiences == ["dev-infra"])
        #expect(one.claims["repository"] == "acme/web" && one.claims["run_id"] == "42")
        #expect(one.expiresAt == clock.read().addingTimeInterval(300))

        // Kept for ten minutes, then fetched again.
        clock.advance(599)
        _ = try await verifier.verify(try await key.sign(now: clock.read()), trustedIssuers: [Self.issuer])
        #expect(issuer.count == 1)
        clock.advance(2)
        _ = try await verifier.verify(try await key.sign(now: clock.read()), trustedIssuers: [Self.issuer])
        #expect(issuer.count == 2)

        // Checked after the signature: times, against the verifier's clock.
        let expired = try await key.sign(now: clock.read()) { $0.exp = Int(clock.read().timeIntervalSince1970) - 120 }
        #expect(await Self.refusal { _ = try await verifier.verify(expired, trustedIssuers: [Self.issuer]) }?.code == "oidc_token_expired")
        let future = try await key.sign(now: clock.read().addingTimeInterval(600))
        #expect(await Self.refusal { _ = try await verifier.verify(future, trustedIssuers: [Self.issuer]) }?.code == "oidc_token_expired")
    }

    @Test func aForgedOrMismatchedSignatureIsInvalid() async throws {
        let clock = ManualClock()
        let key = await Key(kid: "k1")
        let impostor = await Key(kid: "k1")
        let issuer = Issuer()
        let keys = try await Self.keySet([key])
        issuer.current.withLockedValue { $0 = keys }
        let verifier = OIDCVerifier(clock: { clock.read() }, fetch: { try await issuer.fetch($0) })

        let forged = try await impostor.sign(now: clock.read())
        let error = await Self.refusal { _ = try await verifier.verify(forged, trustedIssuers: [Self.issuer]) }
        #expect(error?.code == "oidc_invalid_token" && error?.detail.contains("signature") == true)
        #expect(error.map { !$0.detail.contains(forged) } ?? false)

        // The claims of a good token with another payload: the signature no longer holds.
        let good = try await key.sign(now: clock.read())
        let parts = good.split(separator: ".").map(String.init)
        let tampered = parts[0] + "." + Self.base64URL(Data(Self.payload(now: clock.read(), set: ["repository": "acme/evil"]).utf8)) + "." + parts[2]
        #expect(await Self.refusal { _ = try await verifier.verify(tampered, trustedIssuers: [Self.issuer]) }?.code == "oidc_invalid_token")

        // The key decides the algorithm: an EC key's kid under an RS256 header is refused.
        let mismatched = Self.token(header: #"{"alg":"RS256","kid":"k1"}"#, Self.payload(now: clock.read()))
        let mismatch = await Self.refusal { _ = try await verifier.verify(mismatched, trustedIssuers: [Self.issuer]) }
        #expect(mismatch?.code == "oidc_invalid_token" && mismatch?.detail.contains("algorithm") == true)
        #expect(try await verifier.verify(good, trustedIssuers: [Self.issuer]).subject == "repo:acme/web:ref:refs/heads/main")
    }

    @Test func anUnknownKidRefetchesAtMostEveryThirtySecondsSoRotationWorks() async throws {
        let clock = ManualClock()
        let old = await Key(kid: "old")
        let new = await Key(kid: "new")
        let issuer = Issuer()
        let oldKeys = try await Self.keySet([old])
        let newKeys = try await Self.keySet([new])
        issuer.current.withLockedValue { $0 = oldKeys }
        let verifier = OIDCVerifier(clock: { clock.read() }, fetch: { try await issuer.fetch($0) })
        _ = try await verifier.verify(try await old.sign(now: clock.read()), trustedIssuers: [Self.issuer])
        #expect(issuer.count == 1)

        // The provider rotates: the first token with the new kid fetches the keys again at once.
        issuer.current.withLockedValue { $0 = newKeys }
        clock.advance(1)
        _ = try await verifier.verify(try await new.sign(now: clock.read()), trustedIssuers: [Self.issuer])
        #expect(issuer.count == 2)
        // The old key is gone from the set; its kid is now unknown, and refetched for at most every 30 s.
        let stale = try await old.sign(now: clock.read())
        let error = await Self.refusal { _ = try await verifier.verify(stale, trustedIssuers: [Self.issuer]) }
        #expect(error?.code == "oidc_invalid_token" && error?.detail.contains("signing key not found") == true)
        #expect(issuer.count == 2, "the refetch of a moment ago is not repeated")
        for kid in ["made-up-1", "made-up-2", "made-up-3"] {
            let token = try await new.sign(now: clock.read(), kid: kid)
            #expect(await Self.refusal { _ = try await verifier.verify(token, trustedIssuers: [Self.issuer]) }?.code == "oidc_invalid_token")
        }
        #expect(issuer.count == 2, "made-up kids cost nothing within 30 s")
        clock.advance(31)
        #expect(await Self.refusal { _ = try await verifier.verify(try await old.sign(now: clock.read()), trustedIssuers: [Self.issuer]) }?.code
            == "oidc_invalid_token")
        #expect(issuer.count == 3)
        // Known kids never refetch.
        _ = try await verifier.verify(try await new.sign(now: clock.read()), trustedIssuers: [Self.issuer])
        #expect(issuer.count == 3)
    }

    @Test func anIssuerThatGoesDownIsUnreachableAndNotAskedAgainForFiveSeconds() async throws {
        let clock = ManualClock()
        let key = await Key(kid: "k1")
        let issuer = Issuer()
        let verifier = OIDCVerifier(clock: { clock.read() }, fetch: { try await issuer.fetch($0) })
        let token = try await key.sign(now: clock.read())
        let error = await Self.refusal { _ = try await verifier.verify(token, trustedIssuers: [Self.issuer]) }
        #expect(error?.code == "oidc_issuer_unreachable" && error?.retryAfter == 5)
        #expect(await Self.refusal { _ = try await verifier.verify(token, trustedIssuers: [Self.issuer]) }?.code == "oidc_issuer_unreachable")
        #expect(issuer.count == 1)
        let keys = try await Self.keySet([key])
        issuer.current.withLockedValue { $0 = keys }
        clock.advance(6)
        _ = try await verifier.verify(try await key.sign(now: clock.read()), trustedIssuers: [Self.issuer])
        #expect(issuer.count == 2)
    }

    @Test func aKeySetKeepsOnlySigningKeysForRS256AndES256() async throws {
        let key = await Key(kid: "ec")
        let json = #"""
        {"keys": [
          \#(key.jwk),
          {"kty":"EC","crv":"P-384","kid":"p384","x":"AAAA","y":"AAAA"},
          {"kty":"oct","kid":"secret","k":"c2VjcmV0"},
          {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
          {"kty":"RSA","kid":"broken","alg":"RS256","n":"!!","e":"AQAB"},
          {"kty":"EC","crv":"P-256","kid":"ec","x":"AAAA","y":"AAAA"},
          {"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ], "other": true}
        """#
        let keys = try await OIDCKeySet.parse(Data(json.utf8))
        #expect(keys.algorithms == ["ec": "ES256"], "the first key of a kid wins; the rest are not signing keys this accepts")
        let error = await Self.refusal { _ = try await OIDCKeySet.parse(Data("[]".utf8)) }
        #expect(error?.code == "oidc_issuer_unreachable")
    }
}
