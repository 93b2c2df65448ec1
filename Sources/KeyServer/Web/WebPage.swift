import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// What every page renders with: the frame's fields (title, who is signed in, the CSRF token for
/// the sign-out form, which navigation entry is current) and the page's own `view`.
struct PageFrame {
    struct Account {
        var name: String
        var admin: Bool
    }

    struct Nav {
        var keys = false
        var device = false
        var audit = false
        var password = false
    }

    var title: String
    var user: Account?
    var csrf: String?
    var nav = Nav()
    var view: Any
}

/// Rendering and the answers of the pages: HTML with the security headers, 303 redirects, the
/// error page.
enum WebPage {
    /// The templates, parsed once. Nil only if a template constant does not parse: a bug the page
    /// tests catch, answered meanwhile with a plain error text rather than a crash.
    static let library: MustacheLibrary? = {
        var library = MustacheLibrary()
        do {
            for (name, text) in WebTemplates.all { try library.register(text, named: name) }
        } catch {
            return nil
        }
        return library
    }()

    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    /// On every page and redirect.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: contentSecurityPolicy,
        .xContentTypeOptions: "nosniff",
        referrerPolicy: "no-referrer",
        .cacheControl: "no-store",
        // For browsers older than CSP's frame-ancestors.
        HTTPField.Name("X-Frame-Options")!: "DENY",
    ]

    static func hasTemplate(_ name: String) -> Bool { library?.getTemplate(named: name) != nil }

    static func render(_ template: String, _ page: PageFrame) -> String {
        if let text = library?.render(page, withTemplate: template) { return text }
        return "<!doctype html><title>dev-infra</title><p>The page template \(template) failed to load.</p>\n"
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok, cookie: String? = nil, retryAfter: Int? = nil) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        if let cookie { headers[.setCookie] = cookie }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// 303 See Other: after a POST, the browser GETs `location` (a local path).
    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    struct ErrorView {
        var status: Int
        var code: String
        var message: String
        var requestID: String?
        var signedIn: Bool
    }

    static func errorPage(_ error: APIError, account: PageFrame.Account?, csrf: String?, requestID: String?) -> Response {
        let view = ErrorView(status: error.status.code, code: error.code, message: error.detail,
                             requestID: requestID.flatMap { $0.isEmpty ? nil : $0 }, signedIn: account != nil)
        let title = error.status.reasonPhrase.isEmpty ? "Error \(error.status.code)" : error.status.reasonPhrase
        return html(render("error", PageFrame(title: title, user: account, csrf: csrf, view: view)), status: error.status,
                    retryAfter: error.retryAfter)
    }

    /// Any failure as the API would name it (what `ProblemMiddleware` does for the JSON routes):
    /// storage errors get their reason codes, anything unexpected is a 500 whose detail says nothing.
    static func apiError(_ error: any Error, services: Services, context: ServerContext) -> APIError {
        switch error {
        case let error as APIError: return error
        case StorageError.unavailable:
            services.health.set(up: false)
            return APIError(.databaseUnavailable, "the database is not answering; retry shortly", retryAfter: 1)
        case StorageError.invalidText: return APIError.invalidRequest("the form holds a character that cannot be stored (NUL)")
        case StorageError.duplicate(let what): return APIError(.alreadyExists, "\(what) already exists")
        case StorageError.missing(let what): return APIError.notFound("there is no \(what)")
        case is NIOTooManyBytesError: return APIError(.bodyTooLarge, "the form is larger than \(Services.maxBody) bytes")
        case let error as HTTPError where error.status == .contentTooLarge:
            return APIError(.bodyTooLarge, "the form is larger than \(Services.maxBody) bytes")
        default:
            context.logger.error("page failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return APIError(.internalError, "the server failed; the request id identifies it in the log")
        }
    }

    // MARK: Formatting

    /// `2027-01-15 08:00 UTC`: one format, one time zone, whatever the server's locale.
    static func date(_ date: Date?, none: String = "never") -> String {
        guard let date else { return none }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04ld-%02ld-%02ld %02ld:%02ld UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// `3 minutes`, `2 hours`, `7 days`: a rough length for people.
    static func duration(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds.rounded(.up)))
        func unit(_ n: Int, _ name: String) -> String { "\(n) \(name)\(n == 1 ? "" : "s")" }
        if s < 120 { return unit(s, "second") }
        if s < 7200 { return unit((s + 59) / 60, "minute") }
        if s < 172_800 { return unit((s + 3599) / 3600, "hour") }
        return unit((s + 86_399) / 86_400, "day")
    }
}
