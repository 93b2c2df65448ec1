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
            log("> \(field.name): \(Self.shown(field))")
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

    /// A header as `-v` prints it: credentials masked, and the `Idempotency-Key` hidden (whoever
    /// knows it could ask for a retried create's answer).
    static func shown(_ field: HTTPField) -> String {
        switch field.name {
        case .authorization: mask(field.value)
        case .idempotencyKey, .xAPIKey, .cookie: "…"
        default: field.value
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
                // A TLS failure is a verdict, not a glitch: retrying cannot change it.
                if attempt == attempts || Task.isCancelled || Self.isConnectFailure(error)
                    || RemoteError.tlsFailure(error, url: "") != nil { throw error }
            }
            try await Task.sleep(for: delay)
            delay *= 2
        }
        // The loop's last attempt returns or throws; this is for the compiler.
        return try await next(request, body, baseURL)
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
    static let xAPIKey = HTTPField.Name("X-API-Key")!
}

struct ResponseTooLarge: Error {}

/// Reads at most `maxBytes` of any answer: a server (or something posing as one) cannot make the
/// client buffer without bound.
struct ResponseLimitMiddleware: ClientMiddleware {
    let maxBytes: Int

    func intercept(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
                   next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        guard let responseBody else { return (response, nil) }
        if case .known(let length) = responseBody.length, length > maxBytes { throw ResponseTooLarge() }
        let data: Data
        do {
            data = try await Data(collecting: responseBody, upTo: maxBytes)
        } catch where String(reflecting: type(of: error)).contains("TooManyBytes") {
            throw ResponseTooLarge()  // the runtime's own error type is private
        }
        return (response, HTTPBody(data))
    }
}
