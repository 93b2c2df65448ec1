import DevInfraCore
import Foundation
import HTTPTypes
@testable import KeyServer

// Shared by the tests of issue 11 (integrations, kill switches, key updates, quotas, rate-limit
// headers): a seed with a team admin, and JSON calls for the new endpoints. Bodies are built with
// JSONSerialization, so a 10 KB name or a slash in `web/deploy-bot` is escaped the way a client would.

/// A fixture the test needed and did not find (a user the seed should have made).
struct MissingFixture: Error, CustomStringConvertible {
    var description: String
}

extension TestServer {
    /// `seed()` (root, teams web and ops, alice in web, bob in ops), plus carol, a plain member of
    /// web, and alice made an admin of team web. Returns the admin key.
    func seedWithTeamAdmin() async throws -> String {
        let adminKey = try await seed()
        try await admin.addUser("carol", password: "carol-password", teams: ["web"], admin: false)
        try await setRole("alice", team: "web", .admin)
        return adminKey
    }

    /// Straight on the store, as an operator (or a later endpoint) would: the role of `name` in `team`.
    func setRole(_ name: String, team: String, _ role: TeamRole) async throws {
        let repository = try await repository
        guard let user = try await repository.user(named: name) else { throw MissingFixture(description: "no user \(name)") }
        try await repository.setTeamRole(userID: user.id, team: team, role: role)
    }
}

enum IdentityFixture {
    /// The JSON text of `object` (keys sorted, so failures read the same every run).
    static func json(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The public key id of a raw key.
    static func id(_ raw: String) throws -> String { try APIKey.parse(raw).keyID }

    /// Absent, or JSON `null`: how an optional field may say "none".
    static func isNull(_ value: Any?) -> Bool { value == nil || value is NSNull }

    /// A date of the API (ISO 8601, whole seconds, UTC).
    static func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        return ISO8601DateFormatter().date(from: text)
    }

    /// The next UTC midnight after `date`: when a `day` quota starts again.
    static func nextUTCMidnight(after date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 + 86_400)
    }

    /// The IETF draft's rate-limit headers (names of our own, so they cannot clash with the server's).
    static let rateLimitLimit = HTTPField.Name("RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("RateLimit-Reset")!
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
}

extension API {
    /// `POST /v1/integrations`.
    func createIntegration(_ key: String, team: String = "web", name: String = "deploy-bot", scopes: [String],
                           rateLimit: (limit: Int, window: Int)? = nil) async throws -> Reply {
        var fields: [String: Any] = ["team": team, "name": name, "scopes": scopes]
        if let rateLimit { fields["rate_limit"] = ["limit": rateLimit.limit, "window_seconds": rateLimit.window] }
        let body = IdentityFixture.json(fields)
        return try await call(.post, "/v1/integrations", key: key, body: body)
    }

    /// `POST /v1/keys` with the fields issue 11 adds (`integration`, `rate_limit`, `quota`).
    func mintKey(_ key: String, name: String = "k", scopes: [String], team: String? = nil, integration: String? = nil,
                 expiresIn: Int? = nil, rateLimit: (limit: Int, window: Int)? = nil,
                 quota: (limit: Int, period: String)? = nil) async throws -> Reply {
        var fields: [String: Any] = ["name": name, "scopes": scopes]
        if let team { fields["team"] = team }
        if let integration { fields["integration"] = integration }
        if let expiresIn { fields["expires_in"] = expiresIn }
        if let rateLimit { fields["rate_limit"] = ["limit": rateLimit.limit, "window_seconds": rateLimit.window] }
        if let quota { fields["quota"] = ["limit": quota.limit, "period": quota.period] }
        let body = IdentityFixture.json(fields)
        return try await call(.post, "/v1/keys", key: key, body: body)
    }

    /// `PATCH /v1/keys/{id}` with a JSON body given as text (so tests can send `null`, `{}`, junk).
    func patchKey(_ key: String, _ id: String, _ body: String?) async throws -> Reply {
        try await call(.patch, "/v1/keys/\(id)", key: key, body: body)
    }

    /// `POST /v1/disable` with a body given as text.
    func disable(_ key: String, _ body: String) async throws -> Reply {
        try await call(.post, "/v1/disable", key: key, body: body)
    }

    /// `POST /v1/enable` with a body given as text.
    func enable(_ key: String, _ body: String) async throws -> Reply {
        try await call(.post, "/v1/enable", key: key, body: body)
    }

    /// `GET /v1/whoami` with `key`: the cheapest request a key can make.
    func whoami(_ key: String) async throws -> Reply {
        try await call(.get, "/v1/whoami", key: key)
    }
}

extension API.Reply {
    /// The raw key of a 201 from `POST /v1/keys`.
    var apiKey: String? { self["api_key"] as? String }
    /// The `key` object of a 201 from `POST /v1/keys`.
    var keyView: [String: Any] { self["key"] as? [String: Any] ?? [:] }
    /// A nested object (`quota`, `rate_limit`) of this reply.
    func object(_ name: String) -> [String: Any]? { self[name] as? [String: Any] }
}
