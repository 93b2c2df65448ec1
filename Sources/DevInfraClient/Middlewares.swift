import DevInfraCore
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Adds the credential to every request.
struct CredentialMiddleware: ClientMiddleware {
    let credential: String?

    func intercept(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
                   next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if let credential { request.headerFields[.authorization] = "Bearer \(credential)" }
        return try await next(request, body, baseURL)
    }
}

/// `--verbose`: each request and answer on stderr, the credential masked.
struct VerboseMiddleware: ClientMiddleware {
    let log: @Sendable (String) -> Void

    func intercept(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
                   next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        log("> \(request.method) \(baseURL.absoluteString)\(request.path ?? "")")
        for field in request.headerFields {
            log("> \(field.name): \(field.name == .authorization ? Self.mask(field.value) : field.value)")
        }
        let started = Date()
        do {
            let (response, responseBody) = try await next(request, body, baseURL)
            log("< \(response.status.code) \(response.status.reasonPhrase) (\(Int(Date().timeIntervalSince(started) * 1000)) ms)")
            return (response, responseBody)
        } catch {
            log("< failed after \(Int(Date().timeIntervalSince(started) * 1000)) ms")
            throw error
        }
    }

    /// `Bearer dinf_<id>_…`, or `Bearer …` for a JWT.
    static func mask(_ value: String) -> String {
        let token = value.hasPrefix("Bearer ") ? String(value.dropFirst(7)) : value
        if let key = try? APIKey.parse(token) { return "Bearer \(key.masked)" }
        return "Bearer …"
    }
}

/// Retries what is safe to retry (GET, HEAD, DELETE, and POSTs that carry an `Idempotency-Key`)
/// on connection failures and 502/503/504, with exponential backoff.
struct RetryMiddleware: ClientMiddleware {
    let attempts: Int
    let firstDelay: Duration

    func intercept(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
                   next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        let safe = [.get, .head, .delete, .put].contains(request.method) || request.headerFields[.idempotencyKey] != nil
        // A body that can be sent only once cannot be sent again.
        let replayable = body.map { $0.iterationBehavior == .multiple } ?? true
        guard safe && replayable else { return try await next(request, body, baseURL) }
        var delay = firstDelay
        for attempt in 1...attempts {
            do {
                let (response, responseBody) = try await next(request, body, baseURL)
                guard [502, 503, 504].contains(response.status.code), attempt < attempts else { return (response, responseBody) }
            } catch {
                // The HTTP client already retried connecting until its connect timeout.
                if attempt == attempts || Task.isCancelled || Self.isConnectFailure(error) { throw error }
            }
            try await Task.sleep(for: delay)
            delay *= 2
        }
        fatalError("unreachable: the last attempt returns or throws")
    }

    static func isConnectFailure(_ error: any Error) -> Bool {
        let text = String(describing: error)
        return text.contains("Connection refused") || text.contains("connectTimeout")
    }
}

/// Turns every non-2xx answer into a `RemoteError` carrying the server's reason code.
struct ProblemMiddleware: ClientMiddleware {
    func intercept(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
                   next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.code >= 400 else { return (response, responseBody) }
        var data = Data()
        if let responseBody { data = try await Data(collecting: responseBody, upTo: 64 * 1024) }
        throw RemoteError.from(status: response.status.code, headers: response.headerFields, body: data)
    }
}

extension RemoteError {
    /// Reads a problem+json body; a body that is not one still gives a status-based error.
    public static func from(status: Int, headers: HTTPFields, body: Data) -> RemoteError {
        struct Problem: Decodable { var code: String?; var detail: String?; var scope: String? }
        let problem = try? JSONDecoder().decode(Problem.self, from: body)
        guard let code = problem?.code else {
            return .unexpected(status: status, detail: String(decoding: body.prefix(200), as: UTF8.self))
        }
        return .problem(status: status, code: code, detail: problem?.detail ?? "", scope: problem?.scope,
                        retryAfter: headers[.retryAfter].flatMap { Int($0) })
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}
