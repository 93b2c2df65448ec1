@preconcurrency import Crypto
import DevInfraCore
import Foundation

/// RFC 8628, the device authorization grant: a CLI asks for a code, a person signed in to the
/// pages approves it (or not), and the CLI, polling, receives a personal key for its machine once.
/// Codes are stored hashed, expire after ten minutes, and wrong user codes are throttled.
struct DeviceService: Sendable {
    let repository: any KeyRepository
    let secrets: ServerSecrets
    let clock: @Sendable () -> Date
    static let lifetime: TimeInterval = 600
    static let interval = 5
    static let clientID = "dev-infra"
    /// No vowels (no words), no look-alikes (0/O, 1/I): 20^8, about 2.6e10 codes.
    static let alphabet = Array("BCDFGHJKLMNPQRSTVWXZ")
    /// Wrong user codes per session or client address: 10, then one every six seconds.
    let guesses = RateLimiter(perSecond: 1.0 / 6, burst: 10)
    /// New codes per client address.
    let starts = RateLimiter(perSecond: 1, burst: 20)

    /// An RFC 6749 §5.2 error: what the device endpoints answer instead of problem+json.
    struct GrantError: Error, Sendable {
        var error: String
        var description: String
        var status = 400
    }

    struct Started: Sendable {
        var deviceCode: String
        var userCode: String
        var expiresIn: Int
        var interval: Int
    }

    func start(clientID: String?, scope: String?, machine: String?, client: String?) async throws -> Started {
        guard clientID == Self.clientID else { throw GrantError(error: "invalid_client", description: "client_id must be dev-infra", status: 401) }
        let now = clock()
        if let wait = starts.take("start " + ClientAddress.bucket(client), now: now) {
            throw GrantError(error: "slow_down", description: "too many codes asked for from this address; retry in \(wait) s", status: 429)
        }
        var scopes = Scope.userDefault
        if let scope, !scope.trimmingCharacters(in: .whitespaces).isEmpty {
            scopes = []
            for name in scope.split(separator: " ") {
                // A device asks for a person's everyday scopes, never more: a phished approval must
                // not hand out admin, audit or introspection keys.
                guard let known = Scope(rawValue: String(name)), Scope.userDefault.contains(known) else {
                    throw GrantError(error: "invalid_scope", description: "a device may ask for keys:read, keys:write, projects:read and projects:write only")
                }
                scopes.insert(known)
            }
        }
        let name = Limits.clip(machine?.trimmingCharacters(in: .whitespaces), 60).flatMap { $0.isEmpty ? nil : $0 } ?? "unknown machine"
        for _ in 0..<5 {
            let deviceCode = WebSessions.randomToken()
            let userCode = String((0..<8).map { _ in Self.alphabet[Int.random(in: 0..<Self.alphabet.count)] })
            let grant = DeviceGrant(deviceCodeHash: Self.hash(deviceCode), userCodeHash: hashUserCode(userCode), machine: name, scopes: scopes,
                                    createdAt: now.wholeSeconds, expiresAt: now.addingTimeInterval(Self.lifetime).wholeSeconds,
                                    interval: Self.interval, requestedFrom: client)
            do {
                try await repository.createDeviceGrant(grant)
                return Started(deviceCode: deviceCode, userCode: Self.display(userCode), expiresIn: Int(Self.lifetime), interval: Self.interval)
            } catch StorageError.duplicate {
                continue  // a user code already pending: draw another
            }
        }
        throw GrantError(error: "server_error", description: "could not draw a free user code; retry", status: 503)
    }

    enum Poll: Sendable {
        case key(MintedKey)
    }

    /// One poll of the CLI: the key once approved, else the RFC's error for where the grant stands.
    func poll(grantType: String?, deviceCode: String?, clientID: String?) async throws -> MintedKey {
        guard grantType == "urn:ietf:params:oauth:grant-type:device_code" else {
            throw GrantError(error: "unsupported_grant_type", description: "grant_type must be urn:ietf:params:oauth:grant-type:device_code")
        }
        guard clientID == Self.clientID else { throw GrantError(error: "invalid_client", description: "client_id must be dev-infra", status: 401) }
        guard let deviceCode, !deviceCode.isEmpty, deviceCode.utf8.count <= 100,
              let grant = try await repository.deviceGrant(deviceCodeHash: Self.hash(deviceCode)) else {
            throw GrantError(error: "invalid_grant", description: "no such device_code")
        }
        let now = clock()
        switch grant.status {
        case .delivered: throw GrantError(error: "expired_token", description: "this code's key was already delivered")
        case .denied: throw GrantError(error: "access_denied", description: "the request was denied in the browser")
        case .approved:
            // A key nobody came for in time is revoked rather than left waiting, sealed, forever.
            if now > grant.expiresAt.addingTimeInterval(60), let keyID = grant.keyID, try await repository.deliver(deviceCodeHash: grant.deviceCodeHash) != nil {
                _ = try await repository.revoke(id: keyID, at: now, by: "operator", reason: "device code expired before the key was collected",
                                                audit: .init(at: now, event: "key.revoked", actor: "operator", credential: "device", keyID: keyID))
                throw GrantError(error: "expired_token", description: "the code expired before its key was collected; start again")
            }
            guard let delivered = try await repository.deliver(deviceCodeHash: grant.deviceCodeHash), let sealed = delivered.sealedKey,
                  let keyID = delivered.keyID, let record = try await repository.key(id: keyID),
                  let raw = try? secrets.unseal(sealed) else {
                throw GrantError(error: "expired_token", description: "this code's key was already delivered")
            }
            return MintedKey(record: record, rawKey: raw)
        case .pending:
            guard now < grant.expiresAt else { throw GrantError(error: "expired_token", description: "the code expired; start again") }
            // RFC 8628 §3.5: polling sooner than the interval slows the client down by 5 s.
            if let last = grant.lastPolledAt, now.timeIntervalSince(last) < Double(grant.interval) - 0.5 {
                try await repository.polled(deviceCodeHash: grant.deviceCodeHash, at: now, interval: min(grant.interval + 5, 60))
                throw GrantError(error: "slow_down", description: "poll every \(min(grant.interval + 5, 60)) s")
            }
            try await repository.polled(deviceCodeHash: grant.deviceCodeHash, at: now, interval: grant.interval)
            throw GrantError(error: "authorization_pending", description: "waiting for the code to be approved in a browser")
        }
    }

    /// The grant `userCode` names, pending and unexpired; wrong codes are throttled per `throttleKey`.
    func pending(userCode: String, throttleKey: String) async throws -> DeviceGrant {
        let now = clock()
        // Every lookup is charged before it runs: lookups sent at once cannot all pass a check
        // that only charges misses afterwards. Ten a minute is plenty for a person typing.
        if let wait = guesses.take(throttleKey, now: now) {
            throw AuthMiddleware.tooMany("too many codes tried; wait", wait)
        }
        let normalized = Self.normalize(userCode)
        guard normalized.count == 8, let grant = try await repository.deviceGrant(userCodeHash: hashUserCode(normalized)),
              grant.status == .pending, now < grant.expiresAt else {
            throw APIError.notFound("no such code, or it expired: check the code the terminal shows")
        }
        return grant
    }

    func approve(userCode: String, throttleKey: String, by principal: Principal, origin: AuditOrigin) async throws -> DeviceGrant {
        try KeyRules.require(.keysWrite, principal)
        var grant = try await pending(userCode: userCode, throttleKey: throttleKey)
        let scopes = grant.scopes.intersection(principal.user.scopes)
        guard !scopes.isEmpty else { throw APIError(.insufficientScope, "you hold none of the scopes this machine asks for") }
        let now = clock()
        let key = APIKey.generate()
        let record = KeyRecord(keyID: key.keyID, secretHash: ServerSecrets.hash(secret: key.secret),
                               name: String("dev-infra CLI on \(grant.machine)".prefix(Limits.maxNameLength)), ownerID: principal.user.id,
                               ownerName: principal.user.name, team: nil, scopes: scopes, createdAt: now.wholeSeconds,
                               createdBy: principal.user.name)
        grant.status = .approved
        grant.userID = principal.user.id
        grant.sealedKey = try secrets.seal(key.rawValue)
        grant.keyID = key.keyID
        // A key is created: the row says so as every other creation does, with the device it went to.
        let audit = KeyService.stamp(.init(at: now, event: "key.created", actor: principal.user.name, credential: principal.credential,
                                           keyID: key.keyID, target: "device \(grant.machine)"), origin)
        guard try await repository.resolve(grant, key: record, audit: audit) else {
            throw APIError.notFound("this code was answered already")
        }
        return grant
    }

    func deny(userCode: String, throttleKey: String, by principal: Principal, origin: AuditOrigin) async throws -> DeviceGrant {
        var grant = try await pending(userCode: userCode, throttleKey: throttleKey)
        grant.status = .denied
        grant.userID = principal.user.id
        let audit = KeyService.stamp(.init(at: clock(), event: "device.denied", actor: principal.user.name, credential: principal.credential,
                                           target: grant.machine), origin)
        guard try await repository.resolve(grant, key: nil, audit: audit) else { throw APIError.notFound("this code was answered already") }
        return grant
    }

    static func normalize(_ code: String) -> String {
        String(code.uppercased().unicodeScalars.filter { $0 != "-" && $0 != " " }.prefix(16).map(Character.init))
    }

    static func display(_ code: String) -> String {
        let normalized = normalize(code)
        guard normalized.count == 8 else { return normalized }
        return "\(normalized.prefix(4))-\(normalized.suffix(4))"
    }

    static func hash(_ code: String) -> Data { Data(SHA256.hash(data: Data(code.utf8))) }

    /// Keyed with the server's secret: 2.6e10 codes are few enough to try offline against a copy
    /// of the database, not against a MAC whose key the copy does not hold.
    func hashUserCode(_ code: String) -> Data { secrets.mac("device user code " + code) }
}
