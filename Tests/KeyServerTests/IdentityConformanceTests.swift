import Foundation
import Testing
@testable import KeyServer

/// The storage contract of machine identities, on every backend (PostgreSQL when the test
/// database is set): integrations and roles read back as written, kill switches show on the key
/// read by authentication, quotas count once across racing requests, updates are audited, and a
/// token id is exchanged once.
@Suite struct IdentityConformanceTests {
    typealias Store = StorageConformanceTests
    static let t0 = StorageConformanceTests.t0

    @Test(arguments: Store.backends) func integrationsAndRolesReadBackAsWritten(_ kind: String) async throws {
        try await Store.withStore(kind) { store in
            try await store.createTeam("web", at: Self.t0)
            try await store.createTeam("ops", at: Self.t0)
            let alice = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: ["web"], at: Self.t0)
            try await store.setTeamRole(userID: alice.id, team: "ops", role: .admin)
            #expect(try await store.user(id: alice.id)?.teams == ["ops", "web"])
            #expect(try await store.user(id: alice.id)?.adminTeams == ["ops"])
            try await store.setTeamRole(userID: alice.id, team: "ops", role: .member)
            #expect(try await store.user(id: alice.id)?.adminTeams == [])
            await #expect(throws: StorageError.missing("team nope")) { try await store.setTeamRole(userID: alice.id, team: "nope", role: .admin) }

            let bot = try await store.createIntegration(team: "web", name: "deploy-bot", scopes: [.projectsRead, .keysRead],
                                                        rateLimit: RateLimitPolicy(limit: 5, windowSeconds: 60), by: "alice", at: Self.t0,
                                                        audit: Store.event("integration.created"))
            #expect(bot.name == "web/deploy-bot" && bot.kind == .integration && bot.teams == ["web"])
            #expect(bot.allowedScopes == [.projectsRead, .keysRead] && bot.rateLimit == RateLimitPolicy(limit: 5, windowSeconds: 60))
            #expect(bot.createdBy == "alice")
            await #expect(throws: StorageError.duplicate("integration web/deploy-bot")) {
                _ = try await store.createIntegration(team: "web", name: "deploy-bot", scopes: [], rateLimit: nil, by: "x", at: Self.t0,
                                                      audit: Store.event("integration.created"))
            }
            _ = try await store.createIntegration(team: "ops", name: "pager", scopes: [.keysRead], rateLimit: nil, by: "x", at: Self.t0,
                                                  audit: Store.event("integration.created"))
            #expect(try await store.integrations(team: "web").map(\.name) == ["web/deploy-bot"])
            #expect(try await store.integrations(team: nil).map(\.name) == ["ops/pager", "web/deploy-bot"])

            // Deleting revokes its keys and frees the name; the keys keep their history.
            try await store.insert(Store.key("aaaaaaaaaaa1", owner: bot, team: "web"), audit: Store.event("key.created"))
            try await store.deleteIntegration(id: bot.id, at: Self.t0, by: "alice", audit: Store.event("integration.deleted"))
            #expect(try await store.integrations(team: "web").isEmpty)
            let key = try #require(try await store.key(id: "aaaaaaaaaaa1"))
            #expect(key.revokedAt != nil && key.revokeReason == "integration deleted" && key.ownerKind == .integration)
            #expect(try await store.user(named: "web/deploy-bot") == nil)
        }
    }

    @Test(arguments: Store.backends) func killSwitchesShowOnTheKeyAuthenticationReads(_ kind: String) async throws {
        try await Store.withStore(kind) { store in
            try await store.createTeam("web", at: Self.t0)
            let alice = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: ["web"], at: Self.t0)
            try await store.insert(Store.key("bbbbbbbbbbb1", owner: alice), audit: Store.event("key.created"))
            try await store.insert(Store.key("bbbbbbbbbbb2", owner: alice, team: "web"), audit: Store.event("key.created"))
            #expect(try await store.setDisabled(userID: alice.id, at: Self.t0, byAdmin: true, audit: Store.event("user.disabled")))
            #expect(try await store.keyWithOwner(id: "bbbbbbbbbbb1")?.1.disabledAt == Self.t0)
            #expect(try await store.user(id: alice.id)?.disabledByAdmin == true)
            #expect(try await store.key(id: "bbbbbbbbbbb1")?.state(at: Self.t0) == .disabled)
            #expect(try await store.setDisabled(userID: alice.id, at: nil, byAdmin: false, audit: Store.event("user.enabled")))
            #expect(try await store.keyWithOwner(id: "bbbbbbbbbbb1")?.1.disabledAt == nil)
            #expect(try await !store.setDisabled(userID: 999_999, at: Self.t0, byAdmin: false, audit: Store.event("user.disabled")))

            #expect(try await store.setTeamDisabled("web", at: Self.t0, byAdmin: false, audit: Store.event("team.disabled")))
            #expect(try await store.keyWithOwner(id: "bbbbbbbbbbb2")?.0.teamDisabled == true)
            #expect(try await store.keyWithOwner(id: "bbbbbbbbbbb1")?.0.teamDisabled == false)
            #expect(try await store.disabledTeams() == ["web": false])
            #expect(try await store.user(id: alice.id)?.disabledByAdmin == false)
            #expect(try await !store.setTeamDisabled("nope", at: Self.t0, byAdmin: true, audit: Store.event("team.disabled")))
            #expect(try await store.audit(keyID: nil, actor: nil, credential: nil, event: "team.disabled", after: nil, limit: 10).count == 1)
        }
    }

    @Test(arguments: Store.backends) func ofRacingRequestsExactlyTheQuotaIsServed(_ kind: String) async throws {
        try await Store.withStore(kind) { store in
            let alice = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: [], at: Self.t0)
            var key = Store.key("ccccccccccc1", owner: alice)
            key.quota = Quota(limit: 7, period: .day)
            try await store.insert(key, audit: Store.event("key.created"))
            let outcomes = try await withThrowingTaskGroup(of: QuotaUse.self) { group in
                for _ in 0..<25 { group.addTask { try await store.consumeQuota(keyID: "ccccccccccc1", now: Self.t0) } }
                return try await group.reduce(into: [QuotaUse]()) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .allowed = $0 { true } else { false } }.count == 7)
            #expect(outcomes.filter { $0 == .exceeded }.count == 18)
            #expect(try await store.key(id: "ccccccccccc1")?.quota?.used == 7)
            // The next day's window starts from zero.
            #expect(try await store.consumeQuota(keyID: "ccccccccccc1", now: Self.t0.addingTimeInterval(86_400)) == .allowed(used: 1))
            #expect(try await store.consumeQuota(keyID: "nokeyatall01", now: Self.t0) == .unlimited)
        }
    }

    @Test(arguments: Store.backends) func keysSharingAQuotaKeyTakeFromOneCount(_ kind: String) async throws {
        try await Store.withStore(kind) { store in
            let alice = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: [], at: Self.t0)
            var first = Store.key("eeeeeeeeeee1", owner: alice)
            first.quota = Quota(limit: 3, period: .month)
            try await store.insert(first, audit: Store.event("key.created"))
            var second = Store.key("eeeeeeeeeee2", owner: alice)
            second.quota = Quota(limit: 3, period: .month)
            second.quotaKey = first.keyID
            try await store.insert(second, audit: Store.event("key.created"))
            #expect(try await store.consumeQuota(keyID: first.keyID, now: Self.t0) == .allowed(used: 1))
            #expect(try await store.consumeQuota(keyID: second.keyID, now: Self.t0) == .allowed(used: 2))
            #expect(try await store.key(id: second.keyID)?.quota?.used == 2, "a key shows its chain's count")
            #expect(try await store.key(id: second.keyID)?.quotaKey == first.keyID)
            #expect(try await store.consumeQuota(keyID: first.keyID, now: Self.t0) == .allowed(used: 3))
            #expect(try await store.consumeQuota(keyID: second.keyID, now: Self.t0) == .exceeded)
            // A reset through either key is the chain's.
            _ = try await store.update(try #require(try await store.key(id: second.keyID)), resetQuota: true, audit: Store.event("key.updated"))
            #expect(try await store.key(id: first.keyID)?.quota?.used == 0)
            #expect(try await store.consumeQuota(keyID: first.keyID, now: Self.t0) == .allowed(used: 1))
        }
    }

    @Test(arguments: Store.backends) func anUpdateIsWrittenWithItsAuditAndNeverToARevokedKey(_ kind: String) async throws {
        try await Store.withStore(kind) { store in
            let alice = try await store.createUser(name: "alice", passwordHash: nil, isAdmin: false, teams: [], at: Self.t0)
            var key = Store.key("ddddddddddd1", owner: alice)
            key.quota = Quota(limit: 3, period: .total)
            try await store.insert(key, audit: Store.event("key.created"))
            _ = try await store.consumeQuota(keyID: key.keyID, now: Self.t0)
            var changed = key
            changed.name = "renamed"
            changed.scopes = [.keysRead]
            changed.rateLimit = RateLimitPolicy(limit: 2, windowSeconds: 10)
            changed.quota = Quota(limit: 2, period: .total)
            let stored = try #require(try await store.update(changed, resetQuota: false, audit: Store.event("key.updated", key.keyID)))
            #expect(stored.name == "renamed" && stored.scopes == [.keysRead] && stored.rateLimit == RateLimitPolicy(limit: 2, windowSeconds: 10))
            #expect(stored.quota?.limit == 2 && stored.quota?.used == 1)
            let reset = try #require(try await store.update(changed, resetQuota: true, audit: Store.event("key.updated", key.keyID)))
            #expect(reset.quota?.used == 0)
            _ = try await store.revoke(id: key.keyID, at: Self.t0, by: "alice", reason: nil, audit: Store.event("key.revoked", key.keyID))
            #expect(try await store.update(changed, resetQuota: false, audit: Store.event("key.updated", key.keyID)) == nil)
            #expect(try await store.audit(keyID: key.keyID, actor: nil, credential: nil, event: "key.updated", after: nil, limit: 10).count == 2)
        }
    }

    @Test(arguments: Store.backends) func policiesAndTokenIDs(_ kind: String) async throws {
        try await Store.withStore(kind) { store in
            try await store.createTeam("web", at: Self.t0)
            let bot = try await store.createIntegration(team: "web", name: "ci", scopes: [.projectsRead], rateLimit: nil, by: "root", at: Self.t0,
                                                        audit: Store.event("integration.created"))
            let policy = TrustPolicy(name: "web-main", issuer: "https://issuer.example", audience: "dev-infra",
                                     claims: ["repository": "acme/web", "ref": "refs/heads/*"], integrationID: bot.id, integration: bot.name,
                                     scopes: [.projectsRead], lifetimeSeconds: 900, createdBy: "root", createdAt: Self.t0)
            try await store.createPolicy(policy, audit: Store.event("oidc_policy.created"))
            await #expect(throws: StorageError.duplicate("policy web-main")) { try await store.createPolicy(policy, audit: Store.event("x")) }
            #expect(try await store.policies() == [policy])
            #expect(try await store.claimTokenID(issuer: "https://issuer.example", jti: "j1", expiresAt: Self.t0.addingTimeInterval(60), now: Self.t0))
            #expect(try await !store.claimTokenID(issuer: "https://issuer.example", jti: "j1", expiresAt: Self.t0.addingTimeInterval(60), now: Self.t0))
            #expect(try await store.claimTokenID(issuer: "https://other.example", jti: "j1", expiresAt: Self.t0.addingTimeInterval(60), now: Self.t0))
            #expect(try await store.deletePolicy(name: "web-main", audit: Store.event("oidc_policy.deleted")) == policy)
            #expect(try await store.deletePolicy(name: "web-main", audit: Store.event("oidc_policy.deleted")) == nil)
        }
    }
}
