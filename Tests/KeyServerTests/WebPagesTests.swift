import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import KeyServer

/// The pages, in process: sign in with a form, follow with the cookie, the CSRF token scraped from
/// the page as a browser would send it back. (The real-browser run is the Selenium test.)
@Suite struct WebPagesTests {
    @Test func signInCreateAKeyShownOnceRevokeAndSignOut() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            #expect(try await api.createKey(alice, name: "alice-laptop", scopes: ["keys:read"]).status == 201)
            let browser = WebBrowser(client: api.client)

            let away = try await browser.get("/audit")
            #expect(away.status == 303)
            #expect(away.location == "/login?next=%2Faudit")
            let form = try await browser.get("/login?next=%2Fkeys")
            #expect(form.status == 200)
            WebBrowser.checkPage(form)

            let wrong = try await browser.post("/login", [("username", "alice"), ("password", "not-her-password"), ("next", "/keys")])
            #expect(wrong.status == 401)
            #expect(wrong.headers[.setCookie] == nil)
            WebBrowser.checkPage(wrong)

            let signedIn = try await browser.post("/login", [("username", "alice"), ("password", "alice-password"), ("next", "/keys")])
            #expect(signedIn.status == 303)
            #expect(signedIn.location == "/keys")
            let setCookie = try #require(signedIn.headers[.setCookie])
            #expect(setCookie.hasPrefix("dinf_session="))
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
            #expect(!setCookie.contains("Secure"), "plain http to loopback")
            let cookie = try #require(browser.cookie)
            WebBrowser.checkPage(signedIn, html: false)

            let keys = try await browser.get("/keys")
            #expect(keys.status == 200)
            WebBrowser.checkPage(keys)
            #expect(keys.text.contains("alice-laptop"))
            #expect(keys.text.contains("Signed in as <strong>alice</strong>"))
            let csrf = try #require(keys.csrf)

            // Forged posts: no token, a wrong token, another site.
            let create = [("name", "web-deploy"), ("scopes", "keys:read"), ("scopes", "projects:read"), ("team", "web"), ("expires_in", "86400")]
            let noToken = try await browser.post("/keys", create)
            #expect(noToken.status == 403)
            WebBrowser.checkPage(noToken)
            #expect(try await browser.post("/keys", [("csrf", csrf + "x")] + create).status == 403)
            #expect(try await browser.post("/keys", [("csrf", csrf)] + create, headers: [.origin: "https://evil.example"]).status == 403)
            #expect(try await browser.post("/keys", [("csrf", csrf), ("name", "a"), ("name", "b"), ("scopes", "keys:read")]).status == 400)

            let created = try await browser.post("/keys", [("csrf", csrf)] + create)
            #expect(created.status == 200)
            WebBrowser.checkPage(created)
            #expect(created.text.components(separatedBy: "dinf_").count == 2, "the raw key, once")
            let raw = try #require(WebBrowser.rawKey(in: created.text))
            #expect(created.headers[.cacheControl] == "no-store")
            #expect(try await api.call(.get, "/v1/whoami", key: raw).status == 200)
            let shown = try await api.call(.get, "/v1/keys/\(try APIKey.parse(raw).keyID)", key: raw)
            #expect(shown["scopes"] as? [String] == ["keys:read", "projects:read"])
            #expect(shown["team"] as? String == "web")

            let after = try await browser.get("/keys")
            #expect(after.text.contains("web-deploy"))
            #expect(!after.text.contains(raw))
            #expect(!after.text.contains("dinf_"))

            // Revoke, through the confirmation page.
            let id = try APIKey.parse(raw).keyID
            #expect(try await browser.post("/keys/\(id)/revoke", [("reason", "forged")]).status == 403)
            let confirm = try await browser.get("/keys/\(id)/revoke")
            #expect(confirm.status == 200)
            WebBrowser.checkPage(confirm)
            #expect(confirm.text.contains(id))
            let revoked = try await browser.post("/keys/\(id)/revoke", [("csrf", csrf), ("reason", "left on a train")])
            #expect(revoked.status == 303)
            #expect(revoked.location == "/keys?revoked=\(id)")
            #expect(try await api.call(.get, "/v1/whoami", key: raw).code == "key_revoked")
            #expect(try await browser.get("/keys?revoked=\(id)").text.contains("The key \(id) was revoked."))

            // Sign out: the cookie no longer works.
            #expect(try await browser.post("/logout", []).status == 403)
            let out = try await browser.post("/logout", [("csrf", csrf)])
            #expect(out.status == 303)
            #expect(out.location == "/login")
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(browser.cookie == nil)
            browser.cookie = cookie
            let stale = try await browser.get("/keys")
            #expect(stale.status == 303)
            #expect(stale.location == "/login")
        }
    }

    @Test func rotateWithAGracePeriodShowsTheNewKeyOnce() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            let old = try #require(try await api.createKey(alice, name: "ci", scopes: ["keys:read"])["api_key"] as? String)
            let id = try APIKey.parse(old).keyID
            let browser = WebBrowser(client: api.client)
            try await browser.signIn("alice", "alice-password")
            let confirm = try await browser.get("/keys/\(id)/rotate")
            #expect(confirm.status == 200)
            WebBrowser.checkPage(confirm)
            let csrf = try #require(confirm.csrf)
            let rotated = try await browser.post("/keys/\(id)/rotate", [("csrf", csrf), ("grace_seconds", "3600")])
            #expect(rotated.status == 200)
            WebBrowser.checkPage(rotated)
            let new = try #require(WebBrowser.rawKey(in: rotated.text))
            #expect(new != old)
            #expect(try await api.call(.get, "/v1/whoami", key: new).status == 200)
            #expect(try await api.call(.get, "/v1/whoami", key: old).status == 200)
            server.clock.advance(3601)
            #expect(try await api.call(.get, "/v1/whoami", key: old).code == "key_expired")
            // Only an active key can be rotated; someone else's key is not there at all.
            #expect(try await browser.get("/keys/\(id)/rotate").status == 409)
            let bob = try await api.login("bob", "bob-password")
            let bobs = try #require(try await api.createKey(bob, name: "bobs", scopes: ["keys:read"])["api_key"] as? String)
            let missing = try await browser.get("/keys/\(try APIKey.parse(bobs).keyID)/revoke")
            #expect(missing.status == 404)
            WebBrowser.checkPage(missing)
        }
    }

    @Test func theAuditIsForAdminsAndAdminsSeeEveryonesKeys() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.admin.addUser("ada", password: "ada-password", teams: [], admin: true)
        try await server.run { api in
            let alice = try await api.login("alice", "alice-password")
            #expect(try await api.createKey(alice, name: "alice-build", scopes: ["keys:read"]).status == 201)

            let member = WebBrowser(client: api.client)
            try await member.signIn("alice", "alice-password")
            let refused = try await member.get("/audit")
            #expect(refused.status == 403)
            WebBrowser.checkPage(refused)
            #expect(refused.text.contains("admin_required"))
            #expect(try await member.get("/keys?all=true").status == 403)
            #expect(!(try await member.get("/keys").text.contains("href=\"/audit\"")))

            let admin = WebBrowser(client: api.client)
            try await admin.signIn("ada", "ada-password")
            let audit = try await admin.get("/audit")
            #expect(audit.status == 200)
            WebBrowser.checkPage(audit)
            #expect(audit.text.contains(#"<th scope="row">key.created</th>"#))
            #expect(audit.text.contains(#"<th scope="row">login</th>"#))
            let logins = try await admin.get("/audit?event=login&actor=ada")
            #expect(logins.status == 200)
            #expect(logins.text.contains(#"<th scope="row">login</th>"#))
            #expect(!logins.text.contains(#"<th scope="row">key.created</th>"#))
            let everyone = try await admin.get("/keys?all=true")
            #expect(everyone.status == 200)
            WebBrowser.checkPage(everyone)
            #expect(everyone.text.contains("alice-build"))
            #expect(everyone.text.contains("href=\"/audit\""))
        }
    }

    @Test func signInStaysOnThisSite() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let fields = [("username", "alice"), ("password", "alice-password")]
            let browser = WebBrowser(client: api.client)
            let foreign = try await browser.post("/login", fields, headers: [.origin: "https://evil.example"])
            #expect(foreign.status == 403)
            #expect(browser.cookie == nil)
            #expect(try await browser.post("/login", fields, headers: [WebGuard.secFetchSite: "cross-site"]).status == 403)
            #expect(try await browser.post("/login", fields, headers: [.origin: "null"]).status == 403)
            #expect(browser.cookie == nil)
            // A browser's own post under `Referrer-Policy: no-referrer`: Origin null, Sec-Fetch-Site same-origin.
            let own = try await browser.post("/login", fields, headers: [.origin: "null", WebGuard.secFetchSite: "same-origin"])
            #expect(own.status == 303)
            #expect(browser.cookie != nil)
            let named = try await browser.post("/login", fields, headers: [.origin: "http://localhost"])
            #expect(named.status == 303)

            for next in ["//evil.example/", "/\\evil.example", "https://evil.example/", "/keys\r\nSet-Cookie: x=y"] {
                let reply = try await browser.post("/login", fields + [("next", next)])
                #expect(reply.location == "/keys", "next=\(next)")
            }
            #expect(try await browser.post("/login", fields + [("next", "/device?user_code=BCDF-GHJK")]).location == "/device?user_code=BCDF-GHJK")
            #expect(try await browser.post("/login", fields + [("username", "bob")]).status == 400)

            let stranger = WebBrowser(client: api.client)
            let device = try await stranger.get("/device?user_code=BCDF-GHJK")
            #expect(device.status == 303)
            #expect(device.location == "/login?next=%2Fdevice%3Fuser_code%3DBCDF-GHJK")
            #expect(try await stranger.get("/").location == "/keys")
        }
    }

    @Test func approveAndDenyADeviceCode() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let browser = WebBrowser(client: api.client)
            try await browser.signIn("alice", "alice-password")
            let empty = try await browser.get("/device")
            #expect(empty.status == 200)
            WebBrowser.checkPage(empty)
            let unknown = try await browser.get("/device?user_code=BBBB-BBBB")
            #expect(unknown.status == 404)
            WebBrowser.checkPage(unknown)

            let started = try await WebBrowser.startDevice(api, machine: "build-box")
            let typed = started.userCode.replacingOccurrences(of: "-", with: "").lowercased()
            let confirm = try await browser.get("/device?user_code=\(typed)")
            #expect(confirm.status == 200)
            WebBrowser.checkPage(confirm)
            #expect(confirm.text.contains("build-box"))
            #expect(confirm.text.contains(started.userCode))
            #expect(confirm.text.contains("keys:write"))
            let csrf = try #require(confirm.csrf)
            #expect(try await browser.post("/device/approve", [("user_code", typed)]).status == 403)
            let approved = try await browser.post("/device/approve", [("csrf", csrf), ("user_code", typed)])
            #expect(approved.status == 200)
            WebBrowser.checkPage(approved)
            #expect(approved.text.contains("Approved"))
            let token = try await WebBrowser.poll(api, started.deviceCode)
            let key = try #require(token["access_token"] as? String)
            #expect(key.hasPrefix("dinf_"))
            #expect(try await api.call(.get, "/v1/whoami", key: key)["user"] as? String == "alice")
            #expect(try await browser.get("/keys").text.contains("dev-infra CLI on build-box"))
            // Answered once: the code is gone.
            #expect(try await browser.post("/device/approve", [("csrf", csrf), ("user_code", typed)]).status == 404)

            let second = try await WebBrowser.startDevice(api, machine: "other-box")
            let denied = try await browser.post("/device/deny", [("csrf", csrf), ("user_code", second.userCode)])
            #expect(denied.status == 200)
            #expect(denied.text.contains("Denied"))
            #expect(try await WebBrowser.poll(api, second.deviceCode)["error"] as? String == "access_denied")
        }
    }

    @Test func passwordChangeEndsEverySession() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let first = WebBrowser(client: api.client)
            let second = WebBrowser(client: api.client)
            try await first.signIn("alice", "alice-password")
            try await second.signIn("alice", "alice-password")
            let form = try await first.get("/account/password")
            #expect(form.status == 200)
            WebBrowser.checkPage(form)
            let csrf = try #require(form.csrf)
            let differ = try await first.post("/account/password", [("csrf", csrf), ("current_password", "alice-password"),
                                                                     ("new_password", "a-new-password"), ("confirm_password", "another-one")])
            #expect(differ.status == 400)
            let wrong = try await first.post("/account/password", [("csrf", csrf), ("current_password", "not-it"),
                                                                    ("new_password", "a-new-password"), ("confirm_password", "a-new-password")])
            #expect(wrong.status == 401)
            let changed = try await first.post("/account/password", [("csrf", csrf), ("current_password", "alice-password"),
                                                                      ("new_password", "a-new-password"), ("confirm_password", "a-new-password")])
            #expect(changed.status == 200)
            WebBrowser.checkPage(changed)
            #expect(first.cookie == nil)
            #expect(try await second.get("/keys").status == 303)
            try await first.signIn("alice", "a-new-password")
            #expect(try await first.get("/keys").status == 200)
        }
    }

    @Test func staticAssetsAreServedWithLongCacheHeaders() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            for (path, type) in [("/static/app.css", "text/css"), ("/static/app.js", "text/javascript")] {
                let reply = try await api.client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
                #expect(reply.status == .ok)
                #expect(reply.headers[.contentType]?.hasPrefix(type) == true)
                #expect(reply.headers[.cacheControl] == "public, max-age=86400")
                #expect(reply.body.readableBytes > 100)
            }
        }
    }

    @Test func everyTemplateParses() {
        #expect(WebPage.hasTemplate("layout"))
        for name in WebTemplates.all.keys { #expect(WebPage.hasTemplate(name), "\(name)") }
    }
}

/// A browser as far as the pages care: one cookie, forms posted url-encoded, redirects not followed.
final class WebBrowser {
    let client: any TestClientProtocol
    var cookie: String?

    init(client: any TestClientProtocol) {
        self.client = client
    }

    struct Reply {
        var status: Int
        var headers: HTTPFields
        var text: String
        var location: String? { headers[.location] }
        /// The session's CSRF token, from the first form that carries it.
        var csrf: String? { WebBrowser.value(after: #"name="csrf" value=""#, in: text) }
    }

    func get(_ path: String, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(.get, path, body: nil, headers: headers)
    }

    func post(_ path: String, _ fields: [(String, String)], headers: HTTPFields = [:]) async throws -> Reply {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await send(.post, path, body: fields.map { pair in Self.escape(pair.0) + "=" + Self.escape(pair.1) }.joined(separator: "&"), headers: headers)
    }

    func signIn(_ user: String, _ password: String) async throws {
        let reply = try await post("/login", [("username", user), ("password", password)])
        guard reply.status == 303, cookie != nil else { throw MissingFixture(description: "sign-in of \(user) answered \(reply.status)") }
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: String?, headers: HTTPFields) async throws -> Reply {
        var headers = headers
        if let cookie { headers[.cookie] = "\(WebSessions.cookieName)=\(cookie)" }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        let prefix = WebSessions.cookieName + "="
        if let set = response.headers[.setCookie], set.hasPrefix(prefix) {
            let value = set.dropFirst(prefix.count).prefix { $0 != ";" }
            cookie = value.isEmpty || set.contains("Max-Age=0") ? nil : String(value)
        }
        return Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? ""
    }

    static func value(after marker: String, in text: String) -> String? {
        guard let start = text.range(of: marker) else { return nil }
        let rest = text[start.upperBound...]
        return String(rest.prefix { $0 != "\"" })
    }

    static func rawKey(in text: String) -> String? {
        guard let start = text.range(of: "dinf_") else { return nil }
        return String(text[start.lowerBound...].prefix { $0 != "\"" })
    }

    /// What every page answer must have: the security headers, no inline script or style, a
    /// label for every field, the CSRF token in every POST form but the sign-in.
    static func checkPage(_ reply: Reply, html: Bool = true) {
        #expect(reply.headers[.contentSecurityPolicy]
            == "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        #expect(reply.headers[.xContentTypeOptions] == "nosniff")
        #expect(reply.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
        #expect(reply.headers[.cacheControl] == "no-store")
        guard html else { return }
        let text = reply.text
        #expect(reply.headers[.contentType] == "text/html; charset=utf-8")
        #expect(text.contains(#"<meta name="viewport""#))
        let scripts = text.components(separatedBy: "<script").dropFirst().map { chunk in String(chunk.prefix { $0 != ">" }) }
        #expect(scripts.allSatisfy { tag in tag.contains(" src=\"/static/") }, "inline script: \(scripts)")
        #expect(!text.contains("<style") && !text.contains(" style=\"") && !text.contains(" onclick="))
        for kind in ["<input", "<select"] {
            for chunk in text.components(separatedBy: kind).dropFirst() {
                let tag = String(chunk.prefix { $0 != ">" })
                if tag.contains(#"type="hidden""#) { continue }
                let id = value(after: #" id=""#, in: tag)
                #expect(id.map { text.contains(#"<label for="\#($0)""#) } == true, "no label: \(kind)\(tag)>")
            }
        }
        for form in text.components(separatedBy: "<form").dropFirst().map({ chunk in chunk.components(separatedBy: "</form>")[0] })
        where form.contains(#"method="post""#) && !form.contains(#"action="/login""#) {
            #expect(form.contains(#"name="csrf" value=""#) && !form.contains(#"name="csrf" value="""#), "a POST form without its token")
        }
    }

    struct Started {
        var deviceCode: String
        var userCode: String
    }

    static func startDevice(_ api: API, machine: String) async throws -> Started {
        let reply = try await api.client.executeRequest(uri: "/v1/device/code", method: .post,
                                                        headers: [.contentType: "application/x-www-form-urlencoded"],
                                                        body: ByteBuffer(string: "client_id=dev-infra&machine=\(machine)"))
        let json = (try? JSONSerialization.jsonObject(with: Data(String(buffer: reply.body).utf8))) as? [String: Any] ?? [:]
        guard let device = json["device_code"] as? String, let user = json["user_code"] as? String else {
            throw MissingFixture(description: "POST /v1/device/code answered \(reply.status.code): \(String(buffer: reply.body))")
        }
        return Started(deviceCode: device, userCode: user)
    }

    static func poll(_ api: API, _ deviceCode: String) async throws -> [String: Any] {
        let body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=dev-infra&device_code=" + escape(deviceCode)
        let reply = try await api.client.executeRequest(uri: "/v1/device/token", method: .post,
                                                        headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body))
        return (try? JSONSerialization.jsonObject(with: Data(String(buffer: reply.body).utf8))) as? [String: Any] ?? [:]
    }
}
