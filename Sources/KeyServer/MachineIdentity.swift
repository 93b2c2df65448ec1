import Foundation

/// A person signs in; an integration (a service account such as `web/deploy-bot`) never does: it
/// is owned by a team, holds only the scopes of its allowlist, and its keys outlive whoever minted them.
public enum OwnerKind: String, Sendable, Codable, Equatable {
    case person, integration
}

/// A membership's role: a team admin manages the team's integrations and every key bound to the team.
public enum TeamRole: String, Sendable, Codable, Equatable {
    case member, admin
}

/// A token bucket: `limit` requests, refilled over `windowSeconds` (so a sustained `limit/window` a
/// second). Set per key or per integration (shared by its keys), never above the server's maximum.
public struct RateLimitPolicy: Sendable, Equatable, Codable {
    public var limit: Int
    public var windowSeconds: Int

    public init(limit: Int, windowSeconds: Int) {
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    enum CodingKeys: String, CodingKey { case limit, windowSeconds = "window_seconds" }

    public init(from decoder: any Decoder) throws {
        try StrictObject.check(decoder, allowed: ["limit", "window_seconds"], field: "rate_limit")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        limit = try c.decode(Int.self, forKey: .limit)
        windowSeconds = try c.decode(Int.self, forKey: .windowSeconds)
    }

    var perSecond: Double { Double(limit) / Double(windowSeconds) }
    /// `RateLimit-Policy`'s text (the IETF draft's `limit;w=window`).
    var headerText: String { "\(limit);w=\(windowSeconds)" }

    /// Stored as `limit/window` text in one column.
    var stored: String { "\(limit)/\(windowSeconds)" }
    static func stored(_ text: String?) -> RateLimitPolicy? {
        guard let parts = text?.split(separator: "/"), parts.count == 2, let limit = Int(parts[0]), let window = Int(parts[1]) else { return nil }
        return RateLimitPolicy(limit: limit, windowSeconds: window)
    }
}

public enum QuotaPeriod: String, Sendable, Codable, CaseIterable, Equatable {
    case day, month, total

    /// The start of the window holding `now` (UTC calendar days and months); nil for `total`.
    func windowStart(_ now: Date) -> Date? {
        guard self != .total else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents(self == .day ? [.year, .month, .day] : [.year, .month], from: now)
        return calendar.date(from: parts)
    }

    /// When the window holding `now` ends; nil for `total`.
    func windowEnd(_ now: Date) -> Date? {
        guard let start = windowStart(now) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(byAdding: self == .day ? .day : .month, value: 1, to: start)
    }
}

/// How many requests a key may make in a window, and how many it has made in the current one.
/// `used` counts in the database, so every replica takes from the same number.
public struct Quota: Sendable, Equatable {
    public var limit: Int64
    public var period: QuotaPeriod
    public var used: Int64 = 0
    /// The window `used` counts in; nil before the first use (and always for `total`).
    public var windowStart: Date?

    public init(limit: Int64, period: QuotaPeriod, used: Int64 = 0, windowStart: Date? = nil) {
        self.limit = limit
        self.period = period
        self.used = used
        self.windowStart = windowStart
    }

    /// What has been used in the window holding `now` (a window that ended counts nothing).
    func used(at now: Date) -> Int64 {
        guard period != .total else { return used }
        return windowStart == period.windowStart(now) ? used : 0
    }
}

/// What taking one request from a key's quota did.
public enum QuotaUse: Sendable, Equatable {
    /// Allowed; `used` counts this request.
    case allowed(used: Int64)
    case exceeded
    /// The key has no quota (or is gone): nothing to count.
    case unlimited
}

/// An integration's public shape.
public struct IntegrationView: Codable, Sendable, Equatable {
    public var id: String
    public var team: String
    public var name: String
    public var scopes: [String]
    public var rateLimit: RateLimitPolicy?
    public var createdBy: String?
    public var createdAt: Date
    public var disabledAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, team, name, scopes
        case rateLimit = "rate_limit", createdBy = "created_by", createdAt = "created_at", disabledAt = "disabled_at"
    }

    init(_ user: User) {
        id = user.name
        team = user.teams.first ?? ""
        name = String(user.name.split(separator: "/", maxSplits: 1).last ?? "")
        scopes = (user.allowedScopes ?? []).sorted().map(\.rawValue)
        rateLimit = user.rateLimit
        createdBy = user.createdBy
        createdAt = user.createdAt
        disabledAt = user.disabledAt
    }
}

/// Which CI tokens (OIDC) may be exchanged for a short-lived key of which integration.
public struct TrustPolicy: Sendable, Equatable {
    public var name: String
    public var issuer: String
    public var audience: String
    /// Claim name → the value it must have (exact, or a glob with `*`).
    public var claims: [String: String]
    public var integrationID: Int64
    /// The integration's name, as read with the policy.
    public var integration: String
    public var scopes: Set<Scope>
    public var lifetimeSeconds: Int
    public var createdBy: String
    public var createdAt: Date

    /// Claims as stored: JSON with sorted keys.
    var claimsJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(claims)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func claims(_ json: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
    }
}

/// Nested request objects are as strict as the body (`JSONBody` checks the top level): an unknown
/// field is a mistake to report, not to ignore (`quota.used` is output only).
enum StrictObject {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func check(_ decoder: any Decoder, allowed: Set<String>, field: String) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        if let unknown = keys.sorted().first(where: { !allowed.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "unknown field \"\(unknown.prefix(64))\" in \(field); allowed: \(allowed.sorted().joined(separator: ", "))"))
        }
    }
}
