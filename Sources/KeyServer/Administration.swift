import DevInfraCore
import Foundation
import HummingbirdBcrypt

/// What an operator does on the server's machine, straight on the database: the first admin,
/// users and teams. Every change is audited as the `operator` actor.
public struct Administration: Sendable {
    let repository: any KeyRepository
    let clock: @Sendable () -> Date

    public init(repository: any KeyRepository, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.repository = repository
        self.clock = clock
    }

    public struct Refused: DevInfraError {
        public var reason: ReasonCode { .invalidArgument }
        public var message: String
    }

    /// Creates the admin user and returns a one-time admin key holding every scope.
    public func bootstrap(adminName: String) async throws -> String {
        guard try await !repository.adminExists() else {
            throw Refused(message: "an admin already exists; bootstrap runs once. Use an admin key to create more keys, or `admin user add NAME --admin`.")
        }
        let user: User
        do { user = try await repository.createUser(name: adminName, passwordHash: nil, isAdmin: true, teams: [], at: clock()) } catch StorageError.duplicate {
            throw Refused(message: "user \(adminName) already exists; bootstrap runs once")
        }
        let key = APIKey.generate()
        let now = clock()
        try await repository.insert(KeyRecord(keyID: key.keyID, secretHash: ServerSecrets.hash(secret: key.secret), name: "bootstrap admin key",
                                              ownerID: user.id, ownerName: user.name, team: nil, scopes: Scope.adminAll,
                                              createdAt: now.wholeSeconds),
                                    audit: AuditEvent(at: now, event: "key.created", actor: "operator", credential: "operator", keyID: key.keyID,
                                                      target: user.name, code: "bootstrap"))
        return key.rawValue
    }

    public func addTeam(_ name: String) async throws {
        try Self.checkName(name, "team")
        guard try await !repository.teamExists(name) else { throw Refused(message: "team \(name) already exists") }
        do { try await repository.createTeam(name, at: clock()) } catch StorageError.duplicate {
            throw Refused(message: "team \(name) already exists")
        }
        try await repository.append([AuditEvent(at: clock(), event: "team.created", actor: "operator", credential: "operator", team: name)])
    }

    public func addUser(_ name: String, password: String, teams: [String], admin: Bool, teamAdmin: [String] = []) async throws {
        try Self.checkName(name, "user")
        guard password.count >= 8 else { throw Refused(message: "the password must be at least 8 characters") }
        guard try await repository.user(named: name) == nil else { throw Refused(message: "user \(name) already exists") }
        for team in teams where try await !repository.teamExists(team) {
            throw Refused(message: "no team \(team); create it first with: dev-infra-server admin team add \(team)")
        }
        do {
            for team in teamAdmin where try await !repository.teamExists(team) {
                throw Refused(message: "no team \(team); create it first with: dev-infra-server admin team add \(team)")
            }
            let user = try await repository.createUser(name: name, passwordHash: Bcrypt.hash(password, cost: 10), isAdmin: admin,
                                                       teams: Array(Set(teams).subtracting(teamAdmin)), at: clock())
            for team in Set(teamAdmin) { try await repository.setTeamRole(userID: user.id, team: team, role: .admin) }
        } catch StorageError.duplicate {
            throw Refused(message: "user \(name) already exists")  // another operator's add won the race
        }
        try await repository.append([AuditEvent(at: clock(), event: "user.created", actor: "operator", credential: "operator", target: name,
                                               code: admin ? "admin" : nil)])
    }

    public func users() async throws -> [User] { try await repository.users() }

    /// Makes `name` a team admin of `team` (or a plain member again), adding the membership if needed.
    public func setRole(_ name: String, team: String, role: TeamRole) async throws {
        guard let user = try await repository.user(named: name), user.kind == .person else { throw Refused(message: "no user \(name)") }
        guard try await repository.teamExists(team) else { throw Refused(message: "no team \(team)") }
        try await repository.setTeamRole(userID: user.id, team: team, role: role)
        try await repository.append([AuditEvent(at: clock(), event: "team.role_set", actor: "operator", credential: "operator", target: name,
                                               team: team, code: role.rawValue)])
    }

    static func checkName(_ name: String, _ what: String) throws {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        guard !name.isEmpty, name.count <= 64, allowed else {
            throw Refused(message: "invalid \(what) name \"\(name)\": use 1 to 64 letters, digits, '.', '_' or '-'")
        }
    }
}
