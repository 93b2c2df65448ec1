import AsyncHTTPClient
import DevInfraCore
import Foundation
import NIOCore
import NIOHTTP1

/// Asks dev-infra-server's `POST /v1/introspect` (RFC 7662) about a credential, with the service's
/// own key (which holds `keys:introspect`). No answer is cached: a revoked key is refused on the
/// next request.
public struct DevInfraIntrospector: Sendable {
    public enum Answer: Sendable, Equatable {
        case active(DevInfraPrincipal)
        /// `reason` is dev-infra's reason code; `retryAfter` comes with `rate_limited`.
        case inactive(reason: String, retryAfter: Int?)
    }

    let endpoint: String
    let credential: String
    let client: HTTPClient
    let timeout: TimeAmount

    /// `server`: dev-infra's base URL, `https://...` (plain `http` only to a loopback address, as
    /// the CLI allows); `credential`: the service's key. The default client follows no redirect:
    /// a redirect would carry the client's token in its body to wherever it points.
    public init(server: URL, credential: String, client: HTTPClient = DevInfraIntrospector.client, timeout: TimeAmount = .seconds(5)) throws {
        let host = server.host ?? ""
        guard server.scheme == "https" || (server.scheme == "http" && ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host)) else {
            throw DevInfraAuthError(status: .internalServerError, code: ReasonCode.invalidArgument.rawValue,
                                    detail: "dev-infra's URL must be https (http only to a loopback address)")
        }
        endpoint = server.absoluteString.hasSuffix("/") ? server.absoluteString + "v1/introspect" : server.absoluteString + "/v1/introspect"
        self.credential = credential
        self.client = client
        self.timeout = timeout
    }

    /// Shared by every introspector that is given no client: no redirects, certificates verified.
    public static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// What dev-infra says of `token`, checked for every scope in `scopes` and for `team` in the
    /// same call. Throws `DevInfraAuthError` (503 `server_unreachable`) when dev-infra does not
    /// answer, or refuses the service's own key: the caller then fails closed.
    public func introspect(_ token: String, scopes: Set<String> = [], team: String? = nil) async throws -> Answer {
        var form = [("token", token), ("include_reason", "true")]
        if !scopes.isEmpty { form.append(("scope", scopes.sorted().joined(separator: " "))) }
        if let team { form.append(("team", team)) }
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(credential)")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: form.map { "\($0.0)=\(Self.formEncoded($0.1))" }.joined(separator: "&")))
        let status: HTTPResponseStatus
        let body: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: timeout)
            status = response.status
            body = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw Self.unreachable("dev-infra did not answer the key check", retryAfter: 1)
        }
        guard status == .ok else {
            // The service's own key refused, or its introspection limit hit: not the client's fault.
            throw Self.unreachable("dev-infra refused this service's introspection call (\(status.code))", retryAfter: 1)
        }
        guard let answer = try? JSONDecoder().decode(Introspection.self, from: Data(buffer: body)) else {
            throw Self.unreachable("dev-infra's answer was not an introspection response", retryAfter: 1)
        }
        guard answer.active else { return .inactive(reason: answer.reason ?? ReasonCode.invalidToken.rawValue, retryAfter: answer.retryAfter) }
        return .active(DevInfraPrincipal(username: answer.username ?? "", subject: answer.sub ?? "", kind: answer.kind ?? "key",
                                         keyID: answer.keyID, team: answer.team,
                                         scopes: Set((answer.scope ?? "").split(separator: " ").map(String.init)),
                                         expiresAt: answer.exp.map { Date(timeIntervalSince1970: TimeInterval($0)) }))
    }

    static func unreachable(_ detail: String, retryAfter: Int) -> DevInfraAuthError {
        DevInfraAuthError(status: .serviceUnavailable, code: ReasonCode.serverUnreachable.rawValue, detail: detail, retryAfter: retryAfter)
    }

    /// `application/x-www-form-urlencoded`: everything but unreserved characters %-escaped.
    static func formEncoded(_ text: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    struct Introspection: Decodable {
        var active: Bool
        var scope: String?
        var username: String?
        var sub: String?
        var kind: String?
        var keyID: String?
        var team: String?
        var exp: Int64?
        var reason: String?
        var retryAfter: Int?
        enum CodingKeys: String, CodingKey {
            case active, scope, username, sub, kind, team, exp, reason
            case keyID = "key_id", retryAfter = "retry_after"
        }
    }
}
