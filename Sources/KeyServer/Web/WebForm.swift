import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// An `application/x-www-form-urlencoded` body or a query string, decoded (`+` is a space, then
/// %-escapes, as `IntrospectionController.formDecoded` reads them). A field given twice is a 400
/// (which of the two counts must not be a guess), except the `repeatable` ones: a group of
/// checkboxes sharing a name (`scopes`) is how a browser sends a list.
struct WebForm: Sendable {
    private(set) var fields: [String: String] = [:]
    private(set) var lists: [String: [String]] = [:]

    init(encoded text: Substring, repeatable: Set<String> = []) throws {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = IntrospectionController.formDecoded(parts[0]),
                  let value = IntrospectionController.formDecoded(parts.count > 1 ? parts[1] : Substring()) else {
                throw APIError.invalidRequest("the form holds a malformed %-escape")
            }
            if repeatable.contains(name) {
                lists[name, default: []].append(value)
                guard lists[name, default: []].count <= 64 else { throw APIError.invalidRequest("field \"\(name)\" is given too often") }
                continue
            }
            guard fields.updateValue(value, forKey: name) == nil else {
                throw APIError.invalidRequest("field \"\(Limits.clip(name, 64) ?? "")\" is given twice")
            }
        }
    }

    /// Every value of a repeatable field, in the order sent.
    func values(_ name: String) -> [String] { lists[name] ?? [] }

    subscript(_ name: String) -> String? { fields[name] }

    /// The field, trimmed; nil when absent or blank (an empty filter box means "no filter").
    func text(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// A POST names only the fields its form has.
    func only(_ allowed: Set<String>) throws {
        if let unknown = (Array(fields.keys) + Array(lists.keys)).sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.invalidRequest("unknown field \"\(Limits.clip(unknown, 64) ?? "")\"")
        }
    }

    /// The body of a POST (at most `Services.maxBody`, else 413) and its bytes, which key
    /// creation hashes as the API does.
    static func body(of request: Request, services: Services, repeatable: Set<String> = []) async throws -> (form: WebForm, data: Data) {
        guard isForm(request) else { throw APIError.invalidRequest("a form must be sent as application/x-www-form-urlencoded") }
        let data = try await services.body(of: request)
        guard let text = String(data: data, encoding: .utf8) else { throw APIError.invalidRequest("the form is not UTF-8") }
        return (try WebForm(encoded: text[...], repeatable: repeatable), data)
    }

    /// Whether the body is declared `application/x-www-form-urlencoded` (what every page's form sends).
    static func isForm(_ request: Request) -> Bool {
        let type = request.headers[.contentType].map { Authenticator.trimmed($0.split(separator: ";", maxSplits: 1).first ?? "").lowercased() }
        return type == "application/x-www-form-urlencoded"
    }

    /// The request's query string.
    static func query(_ request: Request) throws -> WebForm {
        try WebForm(encoded: (request.uri.query ?? "")[...])
    }
}

/// Where a page may send the browser, and which requests a page accepts.
enum WebGuard {
    /// A path on this server (`/keys?all=true`), else nil: it starts with one `/` (not `//` nor
    /// `/\`, which browsers read as another host), holds printable ASCII only (no spaces, no
    /// header-splitting line breaks) and no backslash.
    static func localPath(_ text: String?) -> String? {
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.hasPrefix("/\\"), text.utf8.count <= 2048,
              text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" }) else { return nil }
        return text
    }

    /// This request's path and query: where the sign-in page sends the browser back to.
    static func here(_ request: Request) -> String {
        let path = request.uri.path
        guard let query = request.uri.query, !query.isEmpty else { return path }
        return path + "?" + query
    }

    static func loginURL(next: String) -> String {
        guard let next = localPath(next), next != "/keys" else { return "/login" }
        return "/login?next=" + escape(next)
    }

    private static var unreserved: CharacterSet { CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~") }

    /// %-escaped for a query string: everything but the unreserved characters.
    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// `a=1&b=2`, each escaped; fields without a value are left out.
    static func query(_ pairs: [(String, String?)]) -> String {
        pairs.compactMap { name, value in value.map { escape(name) + "=" + escape($0) } }.joined(separator: "&")
    }

    /// A form post from another site is refused before anything else is read. Browsers say where a
    /// post comes from in `Sec-Fetch-Site` and `Origin`; under `Referrer-Policy: no-referrer` (which
    /// the pages set) their own same-origin posts carry `Origin: null`, so `null` alone proves
    /// nothing either way. `strict` (the sign-in, which has no CSRF token) accepts `null` only
    /// where `Sec-Fetch-Site` says same-origin; the other posts also carry their session's token.
    /// Clients that send neither header (curl, tests) are not browsers a forged page can drive.
    static func checkOrigin(_ request: Request, strict: Bool) throws {
        let site = request.headers[secFetchSite]?.lowercased()
        if let site, site != "same-origin", site != "none" { throw crossSite }
        guard let origin = request.headers[.origin] else { return }
        if origin == "null" {
            if strict && site != "same-origin" { throw crossSite }
            return
        }
        guard sameOrigin(origin, request) else { throw crossSite }
    }

    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// Whether `origin` (`scheme://host[:port]`) names the host this request was sent to.
    static func sameOrigin(_ origin: String, _ request: Request) -> Bool {
        guard let host = request.head.authority?.lowercased(), !host.isEmpty else { return false }
        let lower = origin.lowercased()
        for (scheme, port) in [("http://", ":80"), ("https://", ":443")] where lower.hasPrefix(scheme) {
            let authority = String(lower.dropFirst(scheme.count))
            return withoutPort(authority, port) == withoutPort(host, port)
        }
        return false
    }

    private static func withoutPort(_ authority: String, _ port: String) -> String {
        authority.hasSuffix(port) ? String(authority.dropLast(port.count)) : authority
    }

    static var crossSite: APIError {
        var error = APIError(.invalidRequest, "this form was posted from another site; open the page on this server and send it from there")
        error.status = .forbidden
        return error
    }

    static var csrfRefused: APIError {
        var error = APIError(.invalidRequest,
                             "this form's CSRF token is missing or wrong (the page may be from an earlier session); reload the page and send it again")
        error.status = .forbidden
        return error
    }
}
