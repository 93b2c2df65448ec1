/// The process exit statuses of `dev-infra`: a contract that scripts rely on (see the man page).
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case ok = 0
    case failure = 1
    /// No credential, or the server said 401.
    case notAuthenticated = 3
    /// The server said 403.
    case forbidden = 4
    case notFound = 5
    /// Server or network unreachable, or a 5xx.
    case unavailable = 6
    case rateLimited = 7
    /// Keyring unavailable, credentials file unreadable, corrupt or too open.
    case localStorage = 8
    /// swift-argument-parser's own status for bad usage.
    case usage = 64

    public var summary: String {
        switch self {
        case .ok: "success"
        case .failure: "any other failure"
        case .notAuthenticated: "not authenticated: no credential, or the server rejected it (401)"
        case .forbidden: "forbidden: the credential lacks a scope or team (403)"
        case .notFound: "not found"
        case .unavailable: "server or network unreachable, or a server error (5xx)"
        case .rateLimited: "rate limited (429)"
        case .localStorage: "local storage: keyring unavailable, or a file unreadable, corrupt or too open"
        case .usage: "usage: an unknown command, flag or value"
        }
    }
}
