import AsyncHTTPClient
import NIOSSL
import DevInfraCore
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

public typealias KeyInfo = Components.Schemas.Key
public typealias CreatedKey = Components.Schemas.CreatedKey
public typealias Whoami = Components.Schemas.Whoami
public typealias CheckResult = Components.Schemas.Check

/// The key-management API as the CLI uses it: a hand-written face over the client generated from
/// `openapi.yaml`, with the credential, retries, timeouts and error mapping as middleware.
public struct DevInfraAPI: Sendable {
    public struct Options: Sendable {
        public var connectTimeout: Double = 5
        public var requestTimeout: Double = 30
        public var attempts = 3
        public var firstRetryDelay: Duration = .milliseconds(200)
        public var verbose: (@Sendable (String) -> Void)?
        /// The largest answer read from the server; a bigger one is an error, not a memory spike.
        public var maxResponseBytes = 8 << 20
        /// PEM certificates of a private CA, trusted besides the system's store.
        public var caCertificatePath: String?
        /// The most pages `listKeys` follows: a server that never stops paging is an error.
        public var maxPages = 1000
        public init() {}
    }

    public let serverURL: String
    let client: Client
    let http: HTTPClient
    let credential: String?
    let options: Options

    /// `serverURL` must already be checked (https, or http to loopback) by the caller.
    public init(serverURL: String, credential: String?, options: Options = Options()) throws {
        self.serverURL = serverURL
        self.credential = credential
        self.options = options
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .milliseconds(Int64(options.connectTimeout * 1000)),
                                      read: .milliseconds(Int64(options.requestTimeout * 1000)))
        configuration.redirectConfiguration = .disallow
        // Certificates are always verified, against the system's store and a private CA if one
        // is named; there is no switch that turns verification off.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        if let path = options.caCertificatePath {
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
                throw GenericError(.invalidArgument, "cannot read PEM certificates from \(path) (DEV_INFRA_CA_CERT or the profile's ca_cert)")
            }
            tls.additionalTrustRoots = [.certificates(certificates)]
        }
        configuration.tlsConfiguration = tls
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        guard let url = URL(string: serverURL) else {
            throw GenericError(.invalidArgument, "invalid server URL \"\(serverURL.prefix(200))\"")
        }
        var middlewares: [any ClientMiddleware] = [ResponseLimitMiddleware(maxBytes: options.maxResponseBytes), ProblemMiddleware(),
                                                   RetryMiddleware(attempts: options.attempts, firstDelay: options.firstRetryDelay),
                                                   CredentialMiddleware(credential: credential)]
        if let verbose = options.verbose { middlewares.append(VerboseMiddleware(log: verbose)) }
        client = Client(serverURL: url,
                        transport: AsyncHTTPClientTransport(configuration: .init(client: http, timeout: .seconds(Int64(options.requestTimeout)))),
                        middlewares: middlewares)
    }

    /// Runs `body` with a client and shuts its connections down after, whatever happens.
    public static func with<T: Sendable>(serverURL: String, credential: String?, options: Options = Options(),
                                          _ body: (DevInfraAPI) async throws -> T) async throws -> T {
        let api = try DevInfraAPI(serverURL: serverURL, credential: credential, options: options)
        do {
            let result = try await api.call { try await body(api) }
            try? await api.http.shutdown()
            return result
        } catch {
            try? await api.http.shutdown()
            throw error
        }
    }

    /// Unwraps the generator's `ClientError` into what went wrong.
    func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ClientError {
            throw map(error.underlyingError)
        } catch let error as RemoteError {
            throw error
        }
    }

    func map(_ error: any Error) -> any Error {
        if let remote = error as? RemoteError { return remote }
        if error is NIOTooManyBytesError || error is ResponseTooLarge {
            return RemoteError.unexpected(status: 200, detail: "the answer is larger than \(options.maxResponseBytes) bytes; not read")
        }
        if let client = error as? ClientError { return map(client.underlyingError) }
        if let tls = RemoteError.tlsFailure(error, url: serverURL) { return tls }
        if let http = error as? HTTPClientError {
            if http == .readTimeout || http == .deadlineExceeded || http == .connectTimeout {
                return RemoteError.timedOut(url: serverURL, seconds: options.requestTimeout)
            }
            return RemoteError.unreachable(url: serverURL, detail: "\(http)".contains("Connection refused") ? "connection refused" : "\(http)")
        }
        if RetryMiddleware.isConnectFailure(error) && !(error is HTTPClientError) {
            return RemoteError.unreachable(url: serverURL, detail: "connection refused")
        }
        if error is DecodingError { return RemoteError.unexpected(status: 200, detail: "the answer did not match the API") }
        return RemoteError.unreachable(url: serverURL, detail: String(describing: error))
    }

    // MARK: Operations

    public func whoami() async throws -> Whoami {
        try await call { try await client.whoami().ok.body.json }
    }

    public func signIn(username: String, password: String) async throws -> String {
        try await call { try await client.signIn(body: .json(.init(username: username, password: password))).ok.body.json.accessToken }
    }

    /// `GET /v1/check` with this client's credential: whether it is good for `scopes` and `team`.
    public func check(scopes: [String], team: String?) async throws -> CheckResult {
        let scopes = try Self.scopes(scopes)
        return try await call { try await client.check(query: .init(scope: scopes.isEmpty ? nil : scopes, team: team)).ok.body.json }
    }

    static func scopes(_ names: [String]) throws -> [Components.Schemas.Scope] {
        try names.map { name in
            guard let scope = Components.Schemas.Scope(rawValue: name) else {
                throw GenericError(.invalidArgument, "unknown scope \"\(name)\"; known: \(Components.Schemas.Scope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return scope
        }
    }

    public func createKey(name: String, scopes: [String], team: String?, expiresIn: Int?, idempotencyKey: String = UUID().uuidString) async throws -> CreatedKey {
        let scopes = try Self.scopes(scopes)
        return try await call {
            try await client.createKey(headers: .init(idempotencyKey: idempotencyKey),
                                       body: .json(.init(name: name, scopes: scopes, team: team, expiresIn: expiresIn))).created.body.json
        }
    }

    /// Every page, following `next_cursor` to the end: at most `maxPages`, and only forward (a
    /// cursor that does not advance would loop for ever).
    public func listKeys(all: Bool, team: String?) async throws -> [KeyInfo] {
        var keys: [KeyInfo] = []
        var cursor: String?
        var pages = 0
        repeat {
            pages += 1
            guard pages <= options.maxPages else {
                throw RemoteError.unexpected(status: 200, detail: "the server kept paging past \(options.maxPages) pages; stopped")
            }

            let page = try await call {
                try await client.listKeys(query: .init(all: all ? true : nil, team: team, cursor: cursor, limit: 200)).ok.body.json
            }
            keys += page.items
            if let next = page.nextCursor, let cursor, next <= cursor {
                throw RemoteError.unexpected(status: 200, detail: "the server's next_cursor did not advance; stopped")
            }
            cursor = page.nextCursor
        } while cursor != nil
        return keys
    }

    public func key(id: String) async throws -> KeyInfo {
        try await call { try await client.getKey(path: .init(id: id)).ok.body.json }
    }

    public func revoke(id: String, reason: String?) async throws -> KeyInfo {
        try await call {
            try await client.revokeKey(path: .init(id: id), body: .json(.init(reason: reason))).ok.body.json
        }
    }

    public func rotate(id: String, graceSeconds: Int?, idempotencyKey: String = UUID().uuidString) async throws -> CreatedKey {
        try await call {
            try await client.rotateKey(path: .init(id: id), headers: .init(idempotencyKey: idempotencyKey),
                                       body: .json(.init(graceSeconds: graceSeconds))).created.body.json
        }
    }

    /// Any endpoint, for `dev-infra api`: the status, and the body as the server sent it.
    public func raw(method: String, path: String, body: Data?) async throws -> (status: Int, body: Data) {
        let url = serverURL + (path.hasPrefix("/") ? path : "/" + path)
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.uppercased())
        if let credential { request.headers.add(name: "Authorization", value: "Bearer \(credential)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        options.verbose?("> \(method.uppercased()) \(url)")
        if let credential { options.verbose?("> authorization: \(VerboseMiddleware.mask("Bearer \(credential)"))") }
        do {
            let response = try await http.execute(request, timeout: .seconds(Int64(options.requestTimeout)))
            let data = Data(try await response.body.collect(upTo: options.maxResponseBytes).readableBytesView)
            options.verbose?("< \(response.status.code)")
            return (Int(response.status.code), data)
        } catch {
            throw map(error)
        }
    }
}
