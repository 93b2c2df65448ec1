import Foundation
import Hummingbird
import Logging

/// What controllers share: storage, secrets, clock, limits. Built once per application.
public struct Services: Sendable {
    static let maxBody = 64 * 1024
    static let maxPageSize = 200

    let repository: any KeyRepository
    let secrets: ServerSecrets
    let clock: @Sendable () -> Date
    let rateLimiter: RateLimiter
    let usage = UsageRecorder()
    let logger: Logger

    var authenticator: Authenticator { Authenticator(repository: repository, jwt: JWTSigner(secrets: secrets), clock: clock) }

    func audit(event: String, actor: String?, keyID: String?, team: String?, code: String?, context: ServerContext) async {
        let entry = AuditEvent(at: clock(), event: event, actor: actor, keyID: keyID, team: team, code: code,
                               client: context.client, requestID: context.requestID)
        do { try await repository.append([entry]) } catch {
            logger.error("audit write failed", metadata: ["event": .string(event)])
        }
    }

    /// Decodes a JSON body, naming the field that is unknown, missing or of the wrong type.
    func decode<T: Decodable>(_ type: T.Type, from request: Request, allowed: Set<String>, allowEmpty: Bool = false) async throws -> T {
        try decode(type, from: try await body(of: request), allowed: allowed, allowEmpty: allowEmpty)
    }

    /// The whole body, refused with 413 past `maxBody`.
    func body(of request: Request) async throws -> Data {
        var request = request
        return Data(try await request.collectBody(upTo: Self.maxBody).readableBytesView)
    }

    func decode<T: Decodable>(_ type: T.Type, from body: Data, allowed: Set<String>, allowEmpty: Bool = false) throws -> T {
        var data = body
        if data.isEmpty && allowEmpty { data = Data("{}".utf8) }
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw APIError.invalidRequest("the body must be a JSON object")
        }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.invalidRequest("unknown field \"\(unknown)\"; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.typeMismatch(let type, let context), DecodingError.valueNotFound(let type, let context) {
            throw APIError.invalidRequest("field \"\(Self.path(context))\" must be \(Self.describe(type))")
        } catch DecodingError.keyNotFound(let key, let context) {
            throw APIError.invalidRequest("field \"\(Self.path(context, key))\" is required")
        } catch {
            throw APIError.invalidRequest("the body is not valid for this endpoint")
        }
    }

    static func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
        (context.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [String].Type, is [Any].Type: "an array of strings"
        default: "of another type"
        }
    }
}

extension Response {
    /// A JSON response with the API's date format (ISO 8601).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
