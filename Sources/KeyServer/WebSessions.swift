@preconcurrency import Crypto
import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import NIOPosix

/// Browser sign-in for the pages: a password (checked exactly as `/v1/auth/token` checks it), then
/// a server-side session found by the hash of the cookie's secret. Logout and a password change
/// end sessions in the database, so a stolen cookie dies with them.
struct WebSessions: Sendable {
    let services: Services
    static let cookieName = "dinf_session"
    static let lifetime: TimeInterval = 12 * 3600

    func signIn(username: String, password: String, context: ServerContext) async throws -> (secret: String, session: WebSession, user: User) {
        let user = try await AccountController(services: services).checkPassword(username: username, password: password, context: context,
                                                                                 credential: "session")
        let secret = Self.randomToken()
        let now = services.clock().wholeSeconds
        let session = WebSession(id: Self.sessionID(secret), userID: user.id, csrfToken: Self.randomToken(), createdAt: now,
                                 expiresAt: now.addingTimeInterval(Self.lifetime))
        try await services.repository.createSession(session)
        return (secret, session, user)
    }

    /// The session of the request's cookie and a principal for it: the user's own rights, as a
    /// JWT has them; nil without a (live) session, or for a user switched off since.
    func current(_ request: Request) async throws -> (session: WebSession, principal: Principal)? {
        guard let secret = Self.cookie(Self.cookieName, in: request), !secret.isEmpty, secret.utf8.count <= 100,
              let (session, user) = try await services.repository.session(id: Self.sessionID(secret), now: services.clock()),
              user.disabledAt == nil, user.kind == .person else { return nil }
        let principal = Principal(kind: .session, user: user, keyID: nil, scopes: user.scopes, team: nil, expiresAt: session.expiresAt,
                                  issuedAt: session.createdAt)
        return (session, principal)
    }

    func end(_ session: WebSession) async throws { try await services.repository.deleteSession(id: session.id) }

    func changePassword(user: User, current: String, new: String, origin: AuditOrigin, context: ServerContext) async throws {
        guard new.count >= 8, new.utf8.count <= 1024 else { throw APIError.invalidRequest("the new password must be 8 characters or more (at most 1024 bytes)") }
        guard current.utf8.count <= 1024, let stored = try await services.repository.user(id: user.id) else {
            throw APIError(.invalidCredentials, "the current password is wrong")
        }
        // The sign-in's throttles: a borrowed session must not become a way to guess the password.
        let now = services.clock()
        let nameBucket = Data(SHA256.hash(data: Data(user.name.utf8))).base64EncodedString()
        if let wait = services.signInByClient.take(ClientAddress.bucket(context.client), now: now) ?? services.signInByName.take(nameBucket, now: now) {
            services.reject(.init(at: now, event: "login.throttled", code: ReasonCode.rateLimited.rawValue), context)
            throw AuthMiddleware.tooMany("too many password attempts", wait)
        }
        let hash = stored.passwordHash
        let verify = services.verifyPassword
        guard services.passwordChecks.enter() else { throw AuthMiddleware.tooMany("the server is busy checking other sign-ins", 1) }
        defer { services.passwordChecks.leave() }
        let (valid, newHash) = try await NIOThreadPool.singleton.runIfActive {
            let valid = hash.map { verify(current, $0) } ?? false
            return (valid, valid ? Bcrypt.hash(new, cost: 10) : "")
        }
        guard valid else {
            services.reject(.init(at: now, event: "login.failed", actor: user.name, credential: "session", code: ReasonCode.invalidCredentials.rawValue), context)
            throw APIError(.invalidCredentials, "the current password is wrong")
        }
        try await services.repository.setPassword(userID: user.id, hash: newHash, audit: KeyService.stamp(
            .init(at: services.clock(), event: "user.password_changed", actor: user.name, credential: "session", target: user.name), origin))
    }

    /// `Secure` unless the page is served over plain http to a browser on this machine (the
    /// only place a cookie without it is not sent in the clear over a network).
    func secureCookie(context: ServerContext) -> Bool {
        services.servesTLS || services.publicURL?.hasPrefix("https://") == true || !ClientAddress.isLoopback(context.client)
    }

    func setCookie(_ secret: String, context: ServerContext) -> String {
        "\(Self.cookieName)=\(secret); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(Self.lifetime))" + (secureCookie(context: context) ? "; Secure" : "")
    }

    func clearCookie(context: ServerContext) -> String {
        "\(Self.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" + (secureCookie(context: context) ? "; Secure" : "")
    }

    static func sessionID(_ secret: String) -> String { SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined() }

    /// 32 random bytes, base64url without padding.
    static func randomToken() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// Constant time: a CSRF token compared byte by byte would leak its prefix through timing.
    static func sameToken(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
