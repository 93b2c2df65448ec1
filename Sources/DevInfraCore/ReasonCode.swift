/// Stable, machine-readable reasons for every failure; the server's problem+json `code` and the
/// client's stderr line use the same strings. Each maps to exactly one exit status.
public enum ReasonCode: String, Sendable, CaseIterable, Codable {
    // 401, from DESIGN.md, and their local counterparts
    case missingCredentials = "missing_credentials"
    case malformedKey = "malformed_key"
    case unknownKey = "unknown_key"
    case keyRevoked = "key_revoked"
    case keyExpired = "key_expired"
    case invalidToken = "invalid_token"
    // 403
    case insufficientScope = "insufficient_scope"
    case teamMismatch = "team_mismatch"
    case adminRequired = "admin_required"
    // 429
    case rateLimited = "rate_limited"
    // local storage
    case keyringUnavailable = "keyring_unavailable"
    case keyringTimeout = "keyring_timeout"
    case keyringFailed = "keyring_failed"
    case keyringLocked = "keyring_locked"
    case fileUnreadable = "file_unreadable"
    case fileCorrupt = "file_corrupt"
    case filePermissions = "file_permissions"
    case fileWriteFailed = "file_write_failed"
    // the server and the network
    case notFound = "not_found"
    case invalidRequest = "invalid_request"
    case serverUnreachable = "server_unreachable"
    case serverError = "server_error"
    // the command line itself
    case invalidArgument = "invalid_argument"
    case notATerminal = "not_a_terminal"
    case commandFailed = "command_failed"
    case notImplemented = "not_implemented"

    public var exitStatus: ExitStatus {
        switch self {
        case .missingCredentials, .malformedKey, .unknownKey, .keyRevoked, .keyExpired, .invalidToken:
            .notAuthenticated
        case .insufficientScope, .teamMismatch, .adminRequired: .forbidden
        case .rateLimited: .rateLimited
        case .keyringUnavailable, .keyringTimeout, .keyringFailed, .keyringLocked, .fileUnreadable, .fileCorrupt,
             .filePermissions, .fileWriteFailed:
            .localStorage
        case .notFound: .notFound
        case .serverUnreachable, .serverError: .unavailable
        case .invalidRequest: .failure
        case .invalidArgument: .usage
        case .notATerminal, .commandFailed, .notImplemented: .failure
        }
    }
}
