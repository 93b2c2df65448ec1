import DevInfraCore
import Foundation
import Hummingbird

/// A rejected request: RFC 9457 problem+json with a stable `code`, and for 401/403 the RFC 6750
/// `WWW-Authenticate` header. The detail is for humans and never holds a secret.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    /// The scope a 403 `insufficient_scope` lacks.
    public var scope: String?
    /// True when the request carried no credential at all (bare challenge, RFC 6750 §3.1).
    public var bareChallenge = false
    public var retryAfter: Int?
    /// The methods a 405 names in its `Allow` header.
    public var allow: String?

    /// Every error is built from a `ReasonCode`, which fixes its HTTP status: one list, one mapping.
    public init(_ reason: ReasonCode, _ detail: String, scope: String? = nil, retryAfter: Int? = nil) {
        let statusCode = reason.httpStatus ?? 500
        // The named statuses carry their reason phrase, which becomes the problem's `title`.
        status = Self.statuses.first { $0.code == statusCode } ?? HTTPResponse.Status(code: statusCode)
        code = reason.rawValue
        self.detail = detail
        self.scope = scope
        self.retryAfter = retryAfter
    }

    static let statuses: [HTTPResponse.Status] = [.badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .conflict,
                                                  .contentTooLarge, .unprocessableContent, .tooManyRequests, .internalServerError,
                                                  .serviceUnavailable]

    static func invalidRequest(_ detail: String) -> APIError { APIError(.invalidRequest, detail) }
    static func notFound(_ detail: String) -> APIError { APIError(.notFound, detail) }

    struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var code: String
        var scope: String?
        var requestID: String?
        enum CodingKeys: String, CodingKey { case type, title, status, detail, code, scope, requestID = "request_id" }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let challenge = BearerChallenge.header(status: status.code, code: code, scope: scope, bare: bareChallenge) {
            headers[.wwwAuthenticate] = challenge
        }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let allow { headers[.allow] = allow }
        let data = try problem(requestID: context.logger[metadataKey: "hb.request.id"]?.description)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The problem+json body.
    func problem(requestID: String?) throws -> Data {
        try JSONEncoder().encode(Body(type: "https://dev-infra.dev/problems/\(code)", title: status.reasonPhrase, status: status.code,
                                      detail: detail, code: code, scope: scope, requestID: requestID))
    }
}
