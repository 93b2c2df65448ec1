import AsyncHTTPClient
import DevInfraCore
import Foundation
import NIOCore

/// Reads a trusted issuer's OpenID discovery document and then its JWKS, bounded: each GET has
/// 5 s for everything (connecting, the head, the body), at most 1 MiB of body, and no redirect (a
/// redirect would let whoever controls one path of the issuer's site choose our keys). Every
/// failure is 503 `oidc_issuer_unreachable` with `Retry-After: 5`.
struct OIDCFetcher: Sendable {
    static let timeout: TimeInterval = 5
    static let maxBody = 1 << 20
    static let retryAfter = 5

    let client: HTTPClient

    /// The verification keys `issuer` publishes now. `issuer` is a trust policy's, checked when the
    /// policy was written; it is checked again here, as is every URL the issuer's documents name.
    func keySet(issuer: String) async throws -> OIDCKeySet {
        // OpenID Connect Discovery §4: the issuer without its trailing slash, then the well-known path.
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        guard let discoveryURL = URL(string: base + "/.well-known/openid-configuration"), Self.permits(discoveryURL) else {
            throw Self.unreachable("the issuer is not an https URL (or http to a loopback address)")
        }
        struct Discovery: Decodable {
            var issuer: String
            var jwksURI: String
            enum CodingKeys: String, CodingKey { case issuer, jwksURI = "jwks_uri" }
        }
        let document = try await get(discoveryURL, what: "discovery document")
        guard let discovery = try? JSONDecoder().decode(Discovery.self, from: document) else {
            throw Self.unreachable("the issuer's discovery document has no issuer and jwks_uri")
        }
        // Discovery §4.3: the document must name exactly the issuer it was fetched for.
        guard discovery.issuer == issuer else { throw Self.unreachable("the issuer's discovery document names another issuer") }
        guard let jwksURL = URL(string: discovery.jwksURI), Self.permits(jwksURL) else {
            throw Self.unreachable("the issuer's jwks_uri is not https (or http to a loopback address)")
        }
        // The keys come from the issuer's own host (as GitHub's, GitLab's, Buildkite's and
        // CircleCI's do): a discovery document cannot point the server at another machine.
        guard jwksURL.host?.lowercased() == discoveryURL.host?.lowercased(), jwksURL.port == discoveryURL.port else {
            throw Self.unreachable("the issuer's jwks_uri is on another host than the issuer")
        }
        return try await OIDCKeySet.parse(try await get(jwksURL, what: "key set (JWKS)"))
    }

    /// The body of a 200 answer to a GET of `url`, within the bounds above.
    func get(_ url: URL, what: String) async throws -> Data {
        let client = client
        do {
            return try await Self.within(Self.timeout) { () async throws -> Data in
                var request = HTTPClientRequest(url: url.absoluteString)
                request.headers.add(name: "Accept", value: "application/json")
                let response = try await client.execute(request, timeout: .milliseconds(Int64(Self.timeout * 1000)))
                // A client that follows redirects followed one: refuse what it found there.
                guard response.status.code == 200, response.history.count <= 1 else { throw NotOK() }
                let body = try await response.body.collect(upTo: Self.maxBody)
                return Data(body.readableBytesView)
            }
        } catch is Timeout {
            throw Self.unreachable("the issuer's \(what) did not arrive within 5 s")
        } catch is NotOK {
            throw Self.unreachable("the issuer's \(what) was not a 200 answer (redirects are not followed)")
        } catch {
            throw Self.unreachable("the issuer's \(what) could not be fetched (unreachable, or larger than 1 MiB)")
        }
    }

    struct Timeout: Error {}
    struct NotOK: Error {}

    /// `operation`'s result, or `Timeout` after `seconds` (the operation is then cancelled, which
    /// also ends a body still trickling in: AsyncHTTPClient's own deadline stops at the head).
    static func within<T: Sendable>(_ seconds: TimeInterval, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                return nil
            }
            defer { group.cancelAll() }
            // The first to finish: the operation's value (or error), or the sleeper's nil.
            guard let first = try await group.next(), let value = first else { throw Timeout() }
            return value
        }
    }

    /// https, or http to a loopback address; never with user info (which would be sent as a password).
    static func permits(_ url: URL) -> Bool {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), !host.isEmpty,
              url.user == nil, url.password == nil else { return false }
        return scheme == "https" || (scheme == "http" && ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host))
    }

    static func unreachable(_ detail: String) -> APIError {
        APIError(.oidcIssuerUnreachable, detail, retryAfter: retryAfter)
    }
}
