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
    case invalidCredentials = "invalid_credentials"
    /// A kill switch is on for the key's owner (a user or an integration) or its team; undone by `enable`.
    case keyDisabled = "key_disabled"
    // OIDC token exchange (`POST /v1/auth/oidc`): why a CI job's token was not accepted.
    case oidcInvalidToken = "oidc_invalid_token"
    case oidcUntrustedIssuer = "oidc_untrusted_issuer"
    case oidcAudienceMismatch = "oidc_audience_mismatch"
    case oidcTokenExpired = "oidc_token_expired"
    case oidcReplay = "oidc_replay"
    case oidcClaimsMismatch = "oidc_claims_mismatch"
    case oidcIssuerUnreachable = "oidc_issuer_unreachable"
    // `login --web` (the RFC 8628 device grant), client side only: how the browser sign-in ended.
    /// The person denied the code in the browser.
    case accessDenied = "access_denied"
    /// The code expired (10 minutes) before anyone approved it.
    case expiredToken = "expired_token"
    // 403
    case insufficientScope = "insufficient_scope"
    case teamMismatch = "team_mismatch"
    case adminRequired = "admin_required"
    case expiryExceedsCredential = "expiry_exceeds_credential"
    // 429
    case rateLimited = "rate_limited"
    /// The key's quota (requests a day, a month, or in all) is spent.
    case quotaExceeded = "quota_exceeded"
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
    case methodNotAllowed = "method_not_allowed"
    case keyNotActive = "key_not_active"
    /// A name that must be unique is taken (an integration, a trust policy).
    case alreadyExists = "already_exists"
    case idempotencyConflict = "idempotency_conflict"
    case bodyTooLarge = "body_too_large"
    case internalError = "internal"
    /// The server's database is not answering; the request can be retried (503, `Retry-After`).
    case databaseUnavailable = "database_unavailable"
    /// A stored key would go to a server other than the one it was stored for.
    case credentialServerMismatch = "credential_server_mismatch"
    case serverUnreachable = "server_unreachable"
    case serverError = "server_error"
    case tlsUntrusted = "tls_untrusted"
    // the command line itself
    case invalidArgument = "invalid_argument"
    case notATerminal = "not_a_terminal"
    case commandFailed = "command_failed"
    case notImplemented = "not_implemented"

    public var exitStatus: ExitStatus {
        switch self {
        case .missingCredentials, .malformedKey, .unknownKey, .keyRevoked, .keyExpired, .invalidToken, .invalidCredentials,
             .credentialServerMismatch, .keyDisabled, .oidcInvalidToken, .oidcUntrustedIssuer, .oidcAudienceMismatch,
             .oidcTokenExpired, .oidcReplay, .accessDenied, .expiredToken:
            .notAuthenticated
        case .insufficientScope, .teamMismatch, .adminRequired, .expiryExceedsCredential, .oidcClaimsMismatch: .forbidden
        case .rateLimited, .quotaExceeded: .rateLimited
        case .keyringUnavailable, .keyringTimeout, .keyringFailed, .keyringLocked, .fileUnreadable, .fileCorrupt,
             .filePermissions, .fileWriteFailed:
            .localStorage
        case .notFound: .notFound
        case .serverUnreachable, .serverError, .internalError, .tlsUntrusted, .databaseUnavailable, .oidcIssuerUnreachable: .unavailable
        case .invalidRequest, .methodNotAllowed, .keyNotActive, .idempotencyConflict, .bodyTooLarge, .alreadyExists: .failure
        case .invalidArgument: .usage
        case .notATerminal, .commandFailed, .notImplemented: .failure
        }
    }

    /// The HTTP status the server answers with this code; nil for codes only the client uses.
    /// The codes with a status are exactly the `Problem.code` enum of `openapi.yaml` (a test checks).
    public var httpStatus: Int? {
        switch self {
        case .missingCredentials, .malformedKey, .unknownKey, .keyRevoked, .keyExpired, .invalidToken, .invalidCredentials,
             .keyDisabled, .oidcInvalidToken, .oidcUntrustedIssuer, .oidcAudienceMismatch, .oidcTokenExpired, .oidcReplay: 401
        case .insufficientScope, .teamMismatch, .adminRequired, .expiryExceedsCredential, .oidcClaimsMismatch: 403
        case .rateLimited, .quotaExceeded: 429
        case .notFound: 404
        case .invalidRequest: 400
        case .methodNotAllowed: 405
        case .keyNotActive, .alreadyExists: 409
        case .idempotencyConflict: 422
        case .bodyTooLarge: 413
        case .internalError: 500
        case .databaseUnavailable, .oidcIssuerUnreachable: 503
        case .keyringUnavailable, .keyringTimeout, .keyringFailed, .keyringLocked, .fileUnreadable, .fileCorrupt,
             .filePermissions, .fileWriteFailed, .serverUnreachable, .serverError, .tlsUntrusted, .invalidArgument, .notATerminal,
             .commandFailed, .notImplemented, .credentialServerMismatch, .accessDenied, .expiredToken:
            nil
        }
    }
}
