import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// The pages, on the root router (not `/v1`): sign-in, device approval, keys, audit, password.
/// HTTP only, like the API's controllers: the rules are in `KeyService`, `DeviceService` and
/// `WebSessions`, called with a principal built from the session, so a page can do exactly what
/// the same person's JWT could do through the API, no more.
///
/// Every answer is a page (HTML with the CSP and the other security headers) or a 303; errors
/// become the error page with the status the API would give. A page that needs a session sends
/// the browser to `/login?next=<this page>`. Every POST but the sign-in carries the session's
/// CSRF token; every POST is refused when the browser says it comes from another site.
struct WebController {
    let services: Services
    var web: WebSessions { services.web }

    func register(_ router: Router<ServerContext>) {
        router.get("/", use: home)
        router.get("login", use: loginPage)
        router.post("login", use: login)
        router.post("logout", use: logout)
        router.get("device", use: device)
        router.post("device/approve", use: approveDevice)
        router.post("device/deny", use: denyDevice)
        router.get("keys", use: keys)
        router.post("keys", use: createKey)
        router.get("keys/{id}/rotate", use: confirmRotate)
        router.post("keys/{id}/rotate", use: rotateKey)
        router.get("keys/{id}/revoke", use: confirmRevoke)
        router.post("keys/{id}/revoke", use: revokeKey)
        router.get("audit", use: audit)
        router.get("account/password", use: passwordPage)
        router.post("account/password", use: changePassword)
        WebStatic.register(router)
    }

    /// The browser's session and the principal the pages act as.
    struct SignedIn {
        var session: WebSession
        var principal: Principal
        var account: PageFrame.Account { PageFrame.Account(name: principal.user.name, admin: principal.isAdmin) }
    }

    /// Thrown by a handler for a 303 (to the sign-in page, mostly).
    struct Redirect: Error {
        var location: String
    }

    // MARK: Plumbing

    /// Runs a page: a `Redirect` becomes a 303, any other error the error page.
    func respond(_ request: Request, _ context: ServerContext, _ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let redirect as Redirect {
            return WebPage.redirect(redirect.location)
        } catch {
            return await errorPage(WebPage.apiError(error, services: services, context: context), request, context)
        }
    }

    func errorPage(_ error: APIError, _ request: Request, _ context: ServerContext) async -> Response {
        let signed = try? await web.current(request)
        return WebPage.errorPage(error, account: signed.map { PageFrame.Account(name: $0.principal.user.name, admin: $0.principal.isAdmin) },
                                 csrf: signed?.session.csrfToken, requestID: context.requestID)
    }

    /// The session, else a 303 to the sign-in page, which comes back to `back` (this page by default).
    func signedIn(_ request: Request, back: String? = nil) async throws -> SignedIn {
        if let current = try await web.current(request) { return SignedIn(session: current.session, principal: current.principal) }
        throw Redirect(location: WebGuard.loginURL(next: back ?? WebGuard.here(request)))
    }

    /// A POST of a signed-in page: from this site, with the session's CSRF token (compared in
    /// constant time), and only the fields `allowed` (besides `csrf`). Without a session, back to
    /// the sign-in page, which returns to `back`. A body that is no form holds no token: 403.
    func posted(_ request: Request, back: String, allowed: Set<String>, repeatable: Set<String> = []) async throws
        -> (signed: SignedIn, form: WebForm, data: Data) {
        try WebGuard.checkOrigin(request, strict: false)
        let signed = try await signedIn(request, back: back)
        guard WebForm.isForm(request) else { throw WebGuard.csrfRefused }
        let (form, data) = try await WebForm.body(of: request, services: services, repeatable: repeatable)
        guard let token = form["csrf"], WebSessions.sameToken(token, signed.session.csrfToken) else { throw WebGuard.csrfRefused }
        try form.only(allowed.union(["csrf"]))
        return (signed, form, data)
    }

    func page(_ template: String, _ title: String, _ signed: SignedIn?, nav: PageFrame.Nav = .init(), view: Any,
              status: HTTPResponse.Status = .ok, cookie: String? = nil) -> Response {
        let page = PageFrame(title: title, user: signed?.account, csrf: signed?.session.csrfToken, nav: nav, view: view)
        return WebPage.html(WebPage.render(template, page), status: status, cookie: cookie)
    }

    // MARK: Sign-in, sign-out, password

    func home(_ request: Request, context: ServerContext) async throws -> Response {
        WebPage.redirect("/keys")
    }

    struct LoginView {
        var next: String
        var username: String
        var loginError: String?
        var notice: String?
        var forDevice: Bool
    }

    func loginForm(next: String, username: String = "", error: String? = nil, notice: String? = nil,
                   status: HTTPResponse.Status = .ok, retryAfter: Int? = nil, cookie: String? = nil) -> Response {
        let view = LoginView(next: next, username: username, loginError: error, notice: notice, forDevice: next.hasPrefix("/device"))
        let page = PageFrame(title: "Sign in", user: nil, csrf: nil, view: view)
        return WebPage.html(WebPage.render("login", page), status: status, cookie: cookie, retryAfter: retryAfter)
    }

    func loginPage(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let next = WebGuard.localPath(try WebForm.query(request)["next"]) ?? "/keys"
            if try await web.current(request) != nil { return WebPage.redirect(next) }
            return loginForm(next: next)
        }
    }

    /// No CSRF token (there is no session yet): the cookie is `SameSite=Strict`, and a post that
    /// the browser says comes from another site is refused (`WebGuard.checkOrigin`, strict).
    func login(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            try WebGuard.checkOrigin(request, strict: true)
            let (form, _) = try await WebForm.body(of: request, services: services)
            // `csrf` is accepted and ignored: a client that sends every hidden field it finds is no threat.
            try form.only(["username", "password", "next", "csrf"])
            let next = WebGuard.localPath(form["next"]) ?? "/keys"
            let username = form["username"] ?? ""
            guard !username.isEmpty, let password = form["password"], !password.isEmpty else {
                return loginForm(next: next, username: username, error: "Enter your username and your password.", status: .badRequest)
            }
            let secret: String
            do {
                secret = try await web.signIn(username: username, password: password, context: context).secret
            } catch let error as APIError {
                return loginForm(next: next, username: username, error: error.detail, status: error.status, retryAfter: error.retryAfter)
            }
            // A browser signing in again leaves no session of its own behind.
            if let previous = try? await web.current(request) { try? await web.end(previous.session) }
            return WebPage.redirect(next, cookie: web.setCookie(secret, context: context))
        }
    }

    func logout(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let (signed, _, _) = try await posted(request, back: "/keys", allowed: [])
            try await web.end(signed.session)
            return WebPage.redirect("/login", cookie: web.clearCookie(context: context))
        }
    }

    struct PasswordView {
        var passwordError: String?
    }

    func passwordPage(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let signed = try await signedIn(request)
            return page("password", "Change your password", signed, nav: .init(password: true), view: PasswordView())
        }
    }

    /// Ends every session of the user, this one too: the answer is the sign-in page.
    func changePassword(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let (signed, form, _) = try await posted(request, back: "/account/password",
                                                     allowed: ["current_password", "new_password", "confirm_password"])
            func again(_ message: String, _ status: HTTPResponse.Status) -> Response {
                page("password", "Change your password", signed, nav: .init(password: true), view: PasswordView(passwordError: message),
                     status: status)
            }
            let current = form["current_password"] ?? "", new = form["new_password"] ?? ""
            guard new == form["confirm_password"] ?? "" else { return again("The two new passwords differ.", .badRequest) }
            do {
                try await web.changePassword(user: signed.principal.user, current: current, new: new, origin: context.origin, context: context)
            } catch let error as APIError where error.status != .tooManyRequests && error.status.code < 500 {
                return again(error.detail, error.status)
            }
            return loginForm(next: "/keys", username: signed.principal.user.name,
                             notice: "Your password was changed and every session signed out. Sign in with the new password.",
                             cookie: web.clearCookie(context: context))
        }
    }
}
