import Foundation
import NIOConcurrencyHelpers
import Testing
@testable import KeyServer

/// One contract, every backend: in memory, SQLite, and PostgreSQL when `DEV_INFRA_TEST_POSTGRES_URL`
/// names a server (scripts/test.sh starts one). Includes the concurrency contract: unique
/// violations are typed, conditional updates say whether they applied, a change and its audit
/// row go together, and of racing writers exactly one wins.
@Suite struct StorageConformanceTests {
    static var backends: [String] { ["memory", "sqlite"] + (TestBackend.isPostgres ? ["postgres"] : []) }

    /// A fresh store of the kind, started (PostgreSQL's pool and listener run until the test ends).
    static func withStore(_ kind: String, _ body: (any KeyRepository) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let url = switch kind {
        case "memory": "memory:"
        case "sqlite": "sqlite:\(folder)/store.sqlite"
        default: try TestBackend.createDatabase(on: TestBackend.postgresURL ?? "")
        }
        let running = try await StorageBackend.open(url, poolSize: 8, logger: .init(label: "conformance")).start()
        defer { running.stop() }
        try await body(running.repository)
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func key(_ id: String, owner: User, team: String? = nil, expiresAt: Date? = nil) -> KeyRecord {
        KeyRecord(keyID: id, secretHash: Data(repeating: 7, count: 32), name: "k-\(id)", ownerID: owner.id, ownerName: owner.name, team: team,
                  scopes: [.keysRead, .keysWrite], createdAt: t0, expiresAt: expiresAt)
    }

    static func event(_ name: String, _ keyID: String? = nil) -> AuditEvent {
        AuditEvent(at: t0, event: name, actor: "alice", credential: "c", keyID: keyID)
    }

    @Test(arguments: backends) func uniqueNamesAreTypedDuplicates(_ kind: String) async throws {
        try await Self.withStore(kind) { store in
            try await store.createTeam("web", at: Self.t0)
            await #expect(throws: StorageError.duplicate("team web")) { try await store.createTeam("web", at: Self.t0) }
            _ = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: ["web"], at: Self.t0)
            await #expect(throws: StorageError.duplicate("user alice")) {
                _ = try await store.createUser(name: "alice", passwordHash: "x", isAdmin: true, teams: [], at: Self.t0)
            }
            #expect(try await store.adminExists() == false)
        }
    }

    @Test(arguments: backends) func usersTeamsAndKeysReadBackAsWritten(_ kind: String) async throws {
        try await Self.withStore(kind) { store in
            for team in ["web", "ops", "data"] { try await store.createTeam(team, at: Self.t0) }
            #expect(try await store.teamExists("ops"))
            #expect(try await !store.teamExists("nope"))
            let alice = try await store.createUser(name: "alice", passwordHash: "hash", isAdmin: false, teams: ["web", "data"], at: Self.t0)
            let root = try await store.createUser(name: "root", passwordHash: nil, isAdmin: true, teams: [], at: Self.t0)
            #expect(alice.teams == ["data", "web"])
            #expect(try await store.user(named: "alice") == alice)
            #expect(try await store.user(id: root.id)?.isAdmin == true)
            #expect(try await store.users().map(\.name) == ["alice", "root"])
            #expect(try await store.adminExists())

            let ids = (0..<5).map { String(format: "key%09d", $0) }
            for id in ids { try await store.insert(Self.key(id, owner: id == ids[4] ? root : alice, team: id == ids[0] ? "web" : nil), audit: Self.event("key.created", id)) }
            let (record, owner) = try #require(try await store.keyWithOwner(id: ids[0]))
            #expect(record == Self.key(ids[0], owner: alice, team: "web"))
            #expect(owner.teams == ["data", "web"] && owner.name == "alice" && !owner.isAdmin)
            #expect(try await store.keyWithOwner(id: "nokey0000000") == nil)
            #expect(try await store.keys(ownerID: alice.id, team: nil, after: nil, limit: 2).map(\.keyID) == Array(ids[0..<2]))
            #expect(try await store.keys(ownerID: alice.id, team: nil, after: ids[1], limit: 10).map(\.keyID) == Array(ids[2..<4]))
            #expect(try await store.keys(ownerID: nil, team: "web", after: nil, limit: 10).map(\.keyID) == [ids[0]])
            #expect(try await store.keys(ownerID: nil, team: nil, after: nil, limit: 10).count == 5)
            #expect(try await store.auditCount() == 5)
        }
    }

    @Test(arguments: backends) func ofRacingRevocationsOneAppliesAndIsAudited(_ kind: String) async throws {
        try await Self.withStore(kind) { store in
            let alice = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: [], at: Self.t0)
            try await store.insert(Self.key("revokeme0001", owner: alice), audit: Self.event("key.created"))
            let heard = NIOLockedValueBox<[ChangeFeed.Change]>([])
            store.changes.subscribe { change in heard.withLockedValue { $0.append(change) } }
            let results = try await withThrowingTaskGroup(of: KeyRecord?.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        try await store.revoke(id: "revokeme0001", at: Self.t0.addingTimeInterval(Double(i)), by: "r\(i)", reason: "why",
                                               audit: Self.event("key.revoked", "revokeme0001"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let revokedBy = Set(results.compactMap { $0?.revokedBy })
            #expect(revokedBy.count == 1, "every caller reads the one revocation that applied")
            #expect(try await store.audit(keyID: "revokeme0001", actor: nil, credential: nil, event: "key.revoked", after: nil, limit: 50).count == 1)
            #expect(try await store.revoke(id: "nokey0000000", at: Self.t0, by: "x", reason: nil, audit: Self.event("key.revoked")) == nil)
            #expect(heard.withLockedValue { $0 }.contains(.key("revokeme0001")))
        }
    }

    @Test(arguments: backends) func ofRacingRotationsOneApplies(_ kind: String) async throws {
        try await Self.withStore(kind) { store in
            let alice = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: [], at: Self.t0)
            try await store.insert(Self.key("rotateme0001", owner: alice), audit: Self.event("key.created"))
            let outcomes = try await withThrowingTaskGroup(of: RotationOutcome.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        var new = Self.key(String(format: "successor%03d", i), owner: alice)
                        new.rotatedFrom = "rotateme0001"
                        return try await store.rotate(oldID: "rotateme0001", to: new, graceEndsAt: Self.t0.addingTimeInterval(60), now: Self.t0,
                                                      idempotency: nil, audit: Self.event("key.rotated", "rotateme0001"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .rotated }.count == 1)
            #expect(outcomes.filter { $0 == .notActive }.count == 7)
            let old = try #require(try await store.key(id: "rotateme0001"))
            #expect(old.rotatedTo?.hasPrefix("successor") == true && old.graceEndsAt == Self.t0.addingTimeInterval(60))
            #expect(try await store.keys(ownerID: alice.id, team: nil, after: nil, limit: 50).count == 2, "no orphaned successor")
            // Revoked and expired keys do not rotate.
            try await store.insert(Self.key("expiredkey01", owner: alice, expiresAt: Self.t0), audit: Self.event("key.created"))
            #expect(try await store.rotate(oldID: "expiredkey01", to: Self.key("successorX01", owner: alice), graceEndsAt: Self.t0, now: Self.t0,
                                           idempotency: nil, audit: Self.event("key.rotated")) == .notActive)
            #expect(try await store.key(id: "successorX01") == nil)
        }
    }

    @Test(arguments: backends) func ofRacingCreatesWithOneIdempotencyKeyOneIsStored(_ kind: String) async throws {
        try await Self.withStore(kind) { store in
            let alice = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: [], at: Self.t0)
            let results = try await withThrowingTaskGroup(of: (String, IdempotencyRecord?).self) { group in
                for i in 0..<8 {
                    group.addTask {
                        let id = String(format: "idempotent%02d", i)
                        let record = IdempotencyRecord(credential: "cred", idempotencyKey: "retry-1", requestHash: Data([1]), keyID: id,
                                                       sealedKey: Data([2]), createdAt: Self.t0)
                        return (id, try await store.insert(Self.key(id, owner: alice), idempotency: record, audit: Self.event("key.created", id)))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = results.filter { $0.1 == nil }.map(\.0)
            #expect(winners.count == 1)
            #expect(Set(results.compactMap { $0.1?.keyID }) == Set(winners), "every loser is told the winner's key")
            #expect(try await store.keys(ownerID: alice.id, team: nil, after: nil, limit: 50).map(\.keyID) == winners)
            #expect(try await store.auditCount() == 1)
            #expect(try await store.idempotency(credential: "cred", key: "retry-1")?.keyID == winners.first)
            #expect(try await store.idempotency(credential: "other", key: "retry-1") == nil)
            try await store.pruneIdempotency(before: Self.t0.addingTimeInterval(1))
            #expect(try await store.idempotency(credential: "cred", key: "retry-1") == nil)
        }
    }

    @Test(arguments: backends) func lastUseNeverGoesBack(_ kind: String) async throws {
        try await Self.withStore(kind) { store in
            let alice = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: [], at: Self.t0)
            try await store.insert(Self.key("useduse00001", owner: alice), audit: Self.event("key.created"))
            try await store.recordUse(["useduse00001": Self.t0.addingTimeInterval(100), "nokey0000000": Self.t0])
            try await store.recordUse(["useduse00001": Self.t0.addingTimeInterval(50)])
            #expect(try await store.key(id: "useduse00001")?.lastUsedAt == Self.t0.addingTimeInterval(100))
        }
    }

    @Test(arguments: backends) func theAuditFiltersPagesAndPrunes(_ kind: String) async throws {
        try await Self.withStore(kind) { store in
            try await store.append((0..<5).map { AuditEvent(at: Self.t0.addingTimeInterval(Double($0)), event: $0 < 3 ? "request.rejected" : "key.created",
                                                            actor: "a\($0 % 2)", count: $0 + 1) })
            let all = try await store.audit(keyID: nil, actor: nil, credential: nil, event: nil, after: nil, limit: 10)
            #expect(all.map(\.count) == [1, 2, 3, 4, 5])
            let page = try await store.audit(keyID: nil, actor: nil, credential: nil, event: nil, after: all[1].id, limit: 2)
            #expect(page.map(\.count) == [3, 4])
            #expect(try await store.audit(keyID: nil, actor: "a1", credential: nil, event: nil, after: nil, limit: 10).map(\.count) == [2, 4])
            try await store.pruneAudit(events: ["request.rejected"], before: Self.t0.addingTimeInterval(2))
            #expect(try await store.audit(keyID: nil, actor: nil, credential: nil, event: nil, after: nil, limit: 10).map(\.count) == [3, 4, 5])
            #expect(try await store.auditCount() == 3)
        }
    }

    @Test(arguments: backends) func projectsBelongToTheirTeam(_ kind: String) async throws {
        try await Self.withStore(kind) { store in
            try await store.createTeam("web", at: Self.t0)
            try await store.createTeam("ops", at: Self.t0)
            let made = try await store.createProject(team: "web", name: "site", by: "alice", at: Self.t0)
            _ = try await store.createProject(team: "ops", name: "pager", by: "bob", at: Self.t0)
            #expect(try await store.projects(team: "web") == [made])
            try await store.ping()
        }
    }
}
