import DevInfraCore
import Foundation
import Hummingbird

/// A refused request, answered as dev-infra-server answers it: RFC 9457 problem+json with the same
/// reason `code`, RFC 6750 `WWW-Authenticate` on 401 and 403, `Retry-After` on 429 and 503.
public struct DevInfraAuthError: HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    /// The scope a 403 `insufficient_scope` lacks.
    public var scope: String?
    public var retryAfter: Int?
    /// No credential was sent at all: the bare challenge (RFC 6750 §3.1).
    public var bareChallenge = false

    public init(status: HTTPResponse.Status, code: String, detail: String, scope: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.scope = scope
        self.retryAfter = retryAfter
    }

    /// The error for a reason code the server gave, with the server's status for it.
    public init(reason: String, scope: String? = nil, retryAfter: Int? = nil) {
        let known = ReasonCode(rawValue: reason)
        let status = known?.httpStatus ?? 401
        self.init(status: .init(code: status), code: known == nil ? ReasonCode.invalidToken.rawValue : reason,
                  detail: Self.details[reason] ?? "the credential was refused", scope: scope, retryAfter: retryAfter)
    }

    static let details = [
        "malformed_key": "the key is malformed: check that it was copied whole",
        "unknown_key": "no such key",
        "key_revoked": "the key was revoked",
        "key_expired": "the key has expired",
        "invalid_token": "the token is not valid",
        "insufficient_scope": "the credential lacks a scope this needs",
        "team_mismatch": "the credential cannot act for this team",
        "rate_limited": "too many requests for this credential",
    ]

    struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var code: String
        var scope: String?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json", .cacheControl: "no-store"]
        if let challenge = BearerChallenge.header(status: status.code, code: code, scope: scope, bare: bareChallenge) {
            headers[.wwwAuthenticate] = challenge
        }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let body = Body(type: "https://dev-infra.dev/problems/\(code)", title: status.reasonPhrase, status: status.code,
                        detail: detail, code: code, scope: scope)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(body))))
    }
}
