import Foundation

/// Sessions, passwords and device grants, in memory.
extension InMemoryRepository {
    public func createSession(_ session: WebSession) async throws {
        state.withLockedValue { state in
            state.sessions = state.sessions.filter { $0.value.expiresAt > session.createdAt }
            state.sessions[session.id] = session
        }
    }

    public func session(id: String, now: Date) async throws -> (WebSession, User)? {
        state.withLockedValue { state in
            guard let session = state.sessions[id], session.expiresAt > now, var user = state.users[session.userID] else { return nil }
            user.passwordHash = nil
            return (session, user)
        }
    }

    public func deleteSession(id: String) async throws { state.withLockedValue { _ = $0.sessions.removeValue(forKey: id) } }

    public func deleteSessions(userID: Int64) async throws {
        state.withLockedValue { $0.sessions = $0.sessions.filter { $0.value.userID != userID } }
    }

    public func setPassword(userID: Int64, hash: String, audit: AuditEvent) async throws {
        try state.withLockedValue { state in
            guard var user = state.users[userID] else { throw StorageError.missing("user \(userID)") }
            user.passwordHash = hash
            state.users[userID] = user
            state.sessions = state.sessions.filter { $0.value.userID != userID }
            state.append(audit)
        }
    }

    public func createDeviceGrant(_ grant: DeviceGrant) async throws {
        try state.withLockedValue { state in
            state.grants = state.grants.filter { $0.value.expiresAt > grant.createdAt.addingTimeInterval(-86_400) }
            guard !state.grants.values.contains(where: { $0.userCodeHash == grant.userCodeHash }) else {
                throw StorageError.duplicate("user code")
            }
            state.grants[grant.deviceCodeHash] = grant
        }
    }

    public func deviceGrant(userCodeHash: Data) async throws -> DeviceGrant? {
        state.withLockedValue { $0.grants.values.first { $0.userCodeHash == userCodeHash } }
    }

    public func deviceGrant(deviceCodeHash: Data) async throws -> DeviceGrant? { state.withLockedValue { $0.grants[deviceCodeHash] } }

    public func polled(deviceCodeHash: Data, at: Date, interval: Int) async throws {
        state.withLockedValue { state in
            state.grants[deviceCodeHash]?.lastPolledAt = at.wholeSeconds
            state.grants[deviceCodeHash]?.interval = interval
        }
    }

    public func resolve(_ grant: DeviceGrant, key: KeyRecord?, audit: AuditEvent) async throws -> Bool {
        state.withLockedValue { state in
            guard let stored = state.grants[grant.deviceCodeHash], stored.status == .pending else { return false }
            state.grants[grant.deviceCodeHash] = grant
            if let key { state.keys[key.keyID] = key }
            state.append(audit)
            return true
        }
    }

    public func deliver(deviceCodeHash: Data) async throws -> DeviceGrant? {
        state.withLockedValue { state in
            guard var grant = state.grants[deviceCodeHash], grant.status == .approved, grant.sealedKey != nil else { return nil }
            let delivered = grant
            grant.status = .delivered
            grant.sealedKey = nil
            state.grants[deviceCodeHash] = grant
            return delivered
        }
    }
}
