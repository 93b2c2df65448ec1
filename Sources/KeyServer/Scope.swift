/// What a credential may do. Explicit and least-privilege: a key holds exactly the scopes it was
/// created with, and can never grant one it lacks.
public enum Scope: String, Codable, Sendable, CaseIterable, Comparable {
    case keysRead = "keys:read"
    case keysWrite = "keys:write"
    case projectsRead = "projects:read"
    case projectsWrite = "projects:write"
    case auditRead = "audit:read"
    /// Ask `POST /v1/introspect` about other credentials: what a verifying service's key holds.
    case keysIntrospect = "keys:introspect"
    case admin

    /// What a signed-in user's JWT carries, and what `dev-infra login` asks for by default.
    public static let userDefault: Set<Scope> = [.keysRead, .keysWrite, .projectsRead, .projectsWrite]
    public static let adminAll = Set(Scope.allCases)

    public static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }

    static func encode(_ scopes: Set<Scope>) -> String { scopes.sorted().map(\.rawValue).joined(separator: " ") }
    static func decode(_ text: String) -> Set<Scope> { Set(text.split(separator: " ").compactMap { Scope(rawValue: String($0)) }) }
}
