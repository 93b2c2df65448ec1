import AsyncHTTPClient
import DevInfraCore
import Foundation
import JWTKit
import NIOCore

/// Checks a CI job's OIDC identity token (a JWT) for `POST /v1/auth/oidc`: its form, its issuer
/// (one a trust policy names, before anything is fetched), its signature against the keys the
/// issuer publishes (discovery, then JWKS; kept 10 minutes), and its times. What the token may be
/// exchanged for (audience, claim conditions, replay) is `TrustService`'s business.
///
/// Refusals are `APIError`s: 401 `oidc_invalid_token`, `oidc_untrusted_issuer` or
/// `oidc_token_expired`, and 503 `oidc_issuer_unreachable` (Retry-After: 5). None quotes the token
/// or any part of it, and nothing here logs.
final class OIDCVerifier: Sendable {
    /// Clocks of CI runners and of this server may differ this much either way.
    static let skew: TimeInterval = 60

    private let clock: @Sendable () -> Date
    private let keys: OIDCKeyCache

    /// `client` should follow no redirect (`OIDCVerifier.client` does not); one that does is
    /// refused what it finds at the end of the redirect.
    convenience init(clock: @escaping @Sendable () -> Date, client: HTTPClient) {
        let fetcher = OIDCFetcher(client: client)
        self.init(clock: clock) { issuer in try await fetcher.keySet(issuer: issuer) }
    }

    /// With another way to get an issuer's keys (tests).
    init(clock: @escaping @Sendable () -> Date, fetch: @escaping OIDCKeyCache.Fetch) {
        self.clock = clock
        keys = OIDCKeyCache(clock: clock, fetch: fetch)
    }

    /// For the issuers' documents: no redirects, no decompression, 5 s to connect and between reads,
    /// certificates verified.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(5))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    func verify(_ token: String, trustedIssuers: Set<String>) async throws -> OIDCToken {
        let jwt = try UnverifiedJWT(token)
        guard trustedIssuers.contains(jwt.issuer) else {
            throw APIError(.oidcUntrustedIssuer, "no trust policy names the token's issuer (iss)")
        }
        let verified = try jwt.token()
        guard let kid = jwt.keyID, !kid.isEmpty else { throw UnverifiedJWT.invalid("the token names no signing key (kid)") }
        let keySet: OIDCKeySet
        do {
            keySet = try await keys.keys(issuer: jwt.issuer, kid: kid)
        } catch let error as APIError {
            throw error
        } catch {
            throw OIDCFetcher.unreachable("the issuer's keys could not be fetched")
        }
        guard let algorithm = keySet.algorithm(for: kid) else {
            throw UnverifiedJWT.invalid("signing key not found: the issuer does not publish the token's key id (kid)")
        }
        // The key decides the algorithm, never the token: an RSA key checks RS256 only.
        guard algorithm == jwt.algorithm else { throw UnverifiedJWT.invalid("the token's algorithm is not its signing key's") }
        do {
            _ = try await keySet.collection.verify(token, as: SignatureOnly.self)
        } catch {
            throw UnverifiedJWT.invalid("the token's signature does not verify")
        }
        try jwt.checkTimes(now: clock(), skew: Self.skew)
        return verified
    }
}

/// What jwt-kit decodes a verified payload as: nothing. jwt-kit checks the signature; the claims
/// were read (and their times are checked) by `UnverifiedJWT`, against this server's clock.
private struct SignatureOnly: JWTPayload {
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
