import DevInfraClient
import DevInfraCore
import Foundation

/// Where `login --oidc` and `exec --oidc` find the CI job's OIDC token, first hit wins:
/// `--oidc-token-file`, `--oidc-token-env`, the GitHub Actions token endpoint, `DEV_INFRA_OIDC_TOKEN`.
/// The environment, the file reader and the HTTP GET are given, so a test can drive every branch.
struct OIDCTokenSource: Sendable {
    /// A GET with headers: the status and the body.
    typealias Fetch = @Sendable (_ url: String, _ headers: [(name: String, value: String)]) async throws -> (status: Int, body: Data)

    static let defaultVariable = "DEV_INFRA_OIDC_TOKEN"
    static let actionsURLVariable = "ACTIONS_ID_TOKEN_REQUEST_URL"
    static let actionsTokenVariable = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
    /// A JWT is a few kilobytes; anything much larger is not one, and the server refuses it anyway.
    static let maxTokenBytes = 16384

    var environment: [String: String]
    var readFile: @Sendable (String) -> Data?
    var fetch: Fetch

    init(environment: [String: String], readFile: @escaping @Sendable (String) -> Data?, fetch: @escaping Fetch) {
        self.environment = environment
        self.readFile = readFile
        self.fetch = fetch
    }

    /// The command's context, and GETs made with `options` (timeouts, `--verbose`).
    init(_ context: CommandContext, options: DevInfraAPI.Options) {
        self.init(environment: context.environment, readFile: context.readFile) { url, headers in
            try await DevInfraAPI.fetch(url: url, headers: headers, options: options)
        }
    }

    /// Where a token came from, for the note that says so.
    enum Origin: Equatable, CustomStringConvertible {
        case file(String), variable(String), githubActions

        var description: String {
            switch self {
            case .file(let path): "the file \(path)"
            case .variable(let name): "the environment variable \(name)"
            case .githubActions: "GitHub Actions (\(OIDCTokenSource.actionsURLVariable))"
            }
        }
    }

    /// The token, or why there is none. A source named by a flag must give one: it is never skipped.
    func token(file: String?, variable: String?, audience: String) async throws -> (token: String, origin: Origin) {
        if let file {
            guard let data = readFile(file) else { throw OIDCTokenError.unreadableFile(file) }
            let token = try Self.checked(String(decoding: data, as: UTF8.self), from: .file(file))
            return (token, .file(file))
        }
        if let variable {
            guard let value = environment[variable], !value.isEmpty else { throw OIDCTokenError.unsetVariable(variable) }
            let token = try Self.checked(value, from: .variable(variable))
            return (token, .variable(variable))
        }
        if let url = nonEmpty(Self.actionsURLVariable) {
            guard let bearer = nonEmpty(Self.actionsTokenVariable) else { throw OIDCTokenError.actionsTokenMissing }
            let token = try await githubActionsToken(url: url, bearer: bearer, audience: audience)
            return (token, .githubActions)
        }
        if let value = nonEmpty(Self.defaultVariable) {
            let token = try Self.checked(value, from: .variable(Self.defaultVariable))
            return (token, .variable(Self.defaultVariable))
        }
        throw OIDCTokenError.missing
    }

    private func nonEmpty(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// GitHub's documented request: the URL plus `audience`, the request token as a bearer, and
    /// `{"value": "<JWT>"}` back. The bearer goes only to https (or loopback, for tests).
    func githubActionsToken(url: String, bearer: String, audience: String) async throws -> String {
        guard case .success = ServerURL.validate(Self.origin(of: url)) else { throw OIDCTokenError.actionsURLRefused }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        let encoded = audience.addingPercentEncoding(withAllowedCharacters: allowed) ?? audience
        let requestURL = url + (url.contains("?") ? "&" : "?") + "audience=" + encoded
        let (status, body) = try await fetch(requestURL, [("Authorization", "bearer \(bearer)"), ("Accept", "application/json")])
        guard (200..<300).contains(status) else { throw OIDCTokenError.actionsRefused(status: status) }
        struct Answer: Decodable { var value: String }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: body) else { throw OIDCTokenError.actionsAnswer }
        return try Self.checked(answer.value, from: .githubActions)
    }

    /// `scheme://host[:port]` of `url`, which `ServerURL` checks as it checks a server's address.
    static func origin(of url: String) -> String {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, let host = parsed.host else { return url }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(bracketed)" + (parsed.port.map { ":\($0)" } ?? "")
    }

    /// Surrounding whitespace (a file's final newline) is dropped; what is left must look like a
    /// JWT: three base64url parts. The server checks the rest.
    static func checked(_ text: String, from origin: Origin) throws -> String {
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw OIDCTokenError.notAToken(origin, "it is empty") }
        guard token.utf8.count <= maxTokenBytes else { throw OIDCTokenError.notAToken(origin, "it is larger than \(maxTokenBytes) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let base64url = { (part: Substring) in !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "=") } }
        guard parts.count == 3, parts.allSatisfy(base64url) else {
            throw OIDCTokenError.notAToken(origin, "it is not a JWT (three base64url parts separated by dots)")
        }
        return token
    }
}

/// Why no OIDC token could be found or fetched. Never holds the token or the request token.
enum OIDCTokenError: DevInfraError, Equatable {
    case missing
    case unreadableFile(String)
    case unsetVariable(String)
    case notAToken(OIDCTokenSource.Origin, String)
    case actionsTokenMissing
    case actionsURLRefused
    case actionsRefused(status: Int)
    case actionsAnswer

    var reason: ReasonCode {
        switch self {
        case .missing, .unreadableFile, .unsetVariable, .notAToken, .actionsTokenMissing, .actionsURLRefused: .invalidArgument
        case .actionsRefused, .actionsAnswer: .serverError
        }
    }

    var message: String {
        switch self {
        case .missing:
            "no OIDC token found. Give one with --oidc-token-file PATH or --oidc-token-env NAME, or set \(OIDCTokenSource.defaultVariable); "
                + "in GitHub Actions, give the job `permissions: id-token: write` so that \(OIDCTokenSource.actionsURLVariable) is set"
        case .unreadableFile(let path):
            "cannot read the OIDC token file \(path)"
        case .unsetVariable(let name):
            "the environment variable \(name) (--oidc-token-env) is not set or empty"
        case .notAToken(let origin, let why):
            "the OIDC token from \(origin) is not usable: \(why)"
        case .actionsTokenMissing:
            "\(OIDCTokenSource.actionsURLVariable) is set but \(OIDCTokenSource.actionsTokenVariable) is not; both come from GitHub Actions with `permissions: id-token: write`"
        case .actionsURLRefused:
            "\(OIDCTokenSource.actionsURLVariable) must be an https URL (or http to a loopback address): the request token is not sent in clear"
        case .actionsRefused(let status):
            "the GitHub Actions token endpoint answered \(status); check the job's `permissions: id-token: write`"
        case .actionsAnswer:
            "the GitHub Actions token endpoint's answer holds no token (expected {\"value\": \"...\"})"
        }
    }
}
