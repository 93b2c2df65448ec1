import DevInfraCore

/// Why a request to the server failed: the server's own reason code, or the network's.
public enum RemoteError: DevInfraError, Equatable {
    /// The server answered with problem+json (or at least a status).
    case problem(status: Int, code: String, detail: String, scope: String?, retryAfter: Int?)
    case unreachable(url: String, detail: String)
    case timedOut(url: String, seconds: Double)
    case unexpected(status: Int, detail: String)
    /// The TLS handshake failed: the certificate is not trusted, or is for another name.
    case tls(url: String, detail: String)

    public var reason: ReasonCode {
        switch self {
        case .problem(let status, let code, _, _, _): ReasonCode(rawValue: code) ?? Self.reason(forStatus: status)
        case .unreachable, .timedOut: .serverUnreachable
        case .tls: .tlsUntrusted
        case .unexpected(let status, _): Self.reason(forStatus: status)
        }
    }

    /// The server's code as it sent it, even one this client does not know.
    public var code: String {
        if case .problem(_, let code, _, _, _) = self { return code }
        return reason.rawValue
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .problem(let status, _, _, _, _), .unexpected(let status, _): Self.exitStatus(forStatus: status)
        case .unreachable, .timedOut, .tls: .unavailable
        }
    }

    public var message: String {
        switch self {
        case .problem(let status, _, let detail, let scope, let retryAfter):
            var text = "the server refused the request (\(status)): \(Printable.escaped(String(detail.prefix(500))))"
            if let scope { text += " (scope \(scope))" }
            if let retryAfter { text += "; retry after \(retryAfter) s" }
            return text
        case .unreachable(let url, let detail):
            return "cannot reach the server at \(url): \(detail). Check that it is running and the URL (DEV_INFRA_API_URL, or --api-url at login)."
        case .timedOut(let url, let seconds):
            return "the server at \(url) did not answer within \(Int(seconds)) s"
        case .unexpected(let status, let detail):
            return "unexpected answer from the server (\(status)): \(Printable.escaped(detail))"
        case .tls(let url, let detail):
            return "TLS with \(url) failed: \(detail)"
        }
    }

    static func reason(forStatus status: Int) -> ReasonCode {
        switch status {
        case 401: .invalidToken
        case 403: .insufficientScope
        case 404: .notFound
        case 429: .rateLimited
        case 500...: .serverError
        default: .invalidRequest
        }
    }

    static func exitStatus(forStatus status: Int) -> ExitStatus {
        switch status {
        case 401: .notAuthenticated
        case 403: .forbidden
        case 404: .notFound
        case 429: .rateLimited
        case 500...: .unavailable
        default: .failure
        }
    }
}

extension RemoteError {
    /// A TLS handshake failure said plainly, or nil when `error` is something else.
    static func tlsFailure(_ error: any Error, url: String) -> RemoteError? {
        let text = String(reflecting: error)
        if text.contains("failedToValidateHostname") || text.contains("HOSTNAME_MISMATCH") {
            return .tls(url: url, detail: "the server's certificate is for another name than the URL's host")
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificateVerify") || text.contains("UNKNOWN_ISSUER") {
            return .tls(url: url, detail: "the server's certificate is not signed by a CA this machine trusts. "
                        + "For a private CA, set DEV_INFRA_CA_CERT (or the profile's ca_cert) to its certificate")
        }
        if text.contains("handshakeFailed") || text.contains("NIOSSL") {
            return .tls(url: url, detail: "the handshake failed (\(text.prefix(200)))")
        }
        return nil
    }
}
