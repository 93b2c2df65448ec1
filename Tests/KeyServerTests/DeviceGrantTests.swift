import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import KeyServer

/// RFC 8628 through the router: codes, polling (pending, slow_down, denied, expired, delivered
/// once), the client checks, codes stored only hashed, and the approval's key. The browser side
/// (approving on /device) is in `WebPagesTests` and the end-to-end tests; here a person's approval
/// is `DeviceService.approve` on the same store and secret, as the page calls it.
@Suite struct DeviceGrantTests {
    static func form(_ api: API, _ path: String, _ pairs: [(String, String)]) async throws -> API.Reply {
        let body = pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        let response = try await api.client.executeRequest(uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                           body: ByteBuffer(string: body))
        return API.Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
    }

    static func start(_ api: API, machine: String = "build-box") async throws -> (device: String, user: String, reply: API.Reply) {
        let reply = try await form(api, "/v1/device/code", [("client_id", "dev-infra"), ("machine", machine)])
        return (reply["device_code"] as? String ?? "", reply["user_code"] as? String ?? "", reply)
    }

    static func poll(_ api: API, _ device: String) async throws -> API.Reply {
        try await form(api, "/v1/device/token", [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", device),
                                                 ("client_id", "dev-infra")])
    }

    static func service(_ server: TestServer) async throws -> DeviceService {
        DeviceService(repository: try await server.repository, secrets: try server.secrets, clock: { [clock = server.clock] in clock.read() })
    }

    static func alice(_ server: TestServer) async throws -> Principal {
        let user = try #require(try await server.repository.user(named: "alice"))
        return Principal(kind: .session, user: user, keyID: nil, scopes: user.scopes, team: nil)
    }

    @Test func aCodeIsApprovedOnceAndItsKeyDeliveredOnce() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let (device, user, started) = try await Self.start(api)
            #expect(started.status == 200, "\(started.text)")
            #expect(user.range(of: "^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$", options: .regularExpression) != nil, "\(user)")
            #expect(started["verification_uri"] as? String == "http://127.0.0.1/device"
                    || (started["verification_uri"] as? String)?.hasSuffix("/device") == true, "\(started.text)")
            #expect((started["verification_uri_complete"] as? String)?.hasSuffix("/device?user_code=\(user)") == true)
            #expect(started["expires_in"] as? Int == 600 && started["interval"] as? Int == 5)

            let pending = try await Self.poll(api, device)
            #expect(pending.status == 400 && pending["error"] as? String == "authorization_pending", "\(pending.text)")
            let tooSoon = try await Self.poll(api, device)
            #expect(tooSoon["error"] as? String == "slow_down", "\(tooSoon.text)")
            server.clock.advance(11)

            let devices = try await Self.service(server)
            // The code as a person types it: lower case, no dash.
            let grant = try await devices.approve(userCode: user.lowercased().replacingOccurrences(of: "-", with: ""), throttleKey: "t",
                                                  by: try await Self.alice(server), origin: .init(client: nil, requestID: nil))
            #expect(grant.status == .approved)
            let done = try await Self.poll(api, device)
            #expect(done.status == 200 && done["token_type"] as? String == "Bearer", "\(done.text)")
            let key = try #require(done["access_token"] as? String)
            #expect((done["key"] as? [String: Any])?["name"] as? String == "dev-infra CLI on build-box")
            #expect((done["key"] as? [String: Any])?["owner"] as? String == "alice")
            #expect(try await api.whoami(key).status == 200)
            let again = try await Self.poll(api, device)
            #expect(again["error"] as? String == "expired_token", "delivered once: \(again.text)")

            // Stored hashed: neither code is in the database as it was given.
            let stored = try #require(try await server.repository.deviceGrant(deviceCodeHash: DeviceService.hash(device)))
            #expect(stored.status == .delivered && stored.sealedKey == nil)
            #expect(stored.userCodeHash != Data(user.utf8) && stored.deviceCodeHash != Data(device.utf8))
            // The approval is audited with the person and the machine.
            let rows = try await server.repository.audit(keyID: nil, actor: "alice", credential: nil, event: "key.created", after: nil, limit: 5)
            #expect(rows.count == 1 && rows.first?.target == "device build-box", "\(rows)")
        }
    }

    @Test func aDeniedCodeSaysSoAndAnExpiredOneToo() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let devices = try await Self.service(server)
            let (denied, code, _) = try await Self.start(api)
            _ = try await devices.deny(userCode: code, throttleKey: "t", by: try await Self.alice(server), origin: .init(client: nil, requestID: nil))
            #expect(try await Self.poll(api, denied)["error"] as? String == "access_denied")
            await #expect(throws: APIError.self, "answered codes cannot be approved") {
                _ = try await devices.approve(userCode: code, throttleKey: "t", by: try await Self.alice(server), origin: .init(client: nil, requestID: nil))
            }

            let (late, lateCode, _) = try await Self.start(api)
            server.clock.advance(601)
            #expect(try await Self.poll(api, late)["error"] as? String == "expired_token")
            await #expect(throws: APIError.self) {
                _ = try await devices.approve(userCode: lateCode, throttleKey: "t", by: try await Self.alice(server), origin: .init(client: nil, requestID: nil))
            }
        }
    }

    @Test func clientsAndGrantTypesAreChecked() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let wrongClient = try await Self.form(api, "/v1/device/code", [("client_id", "evil")])
            #expect(wrongClient.status == 401 && wrongClient["error"] as? String == "invalid_client")
            let badScope = try await Self.form(api, "/v1/device/code", [("client_id", "dev-infra"), ("scope", "keys:read root")])
            #expect(badScope.status == 400 && badScope["error"] as? String == "invalid_scope")
            for scope in ["admin", "keys:read audit:read", "keys:introspect"] {
                let phishing = try await Self.form(api, "/v1/device/code", [("client_id", "dev-infra"), ("scope", scope)])
                #expect(phishing.status == 400 && phishing["error"] as? String == "invalid_scope", "a device never asks for \(scope)")
            }
            let twice = try await Self.form(api, "/v1/device/code", [("client_id", "dev-infra"), ("client_id", "dev-infra")])
            #expect(twice.status == 400 && twice["error"] as? String == "invalid_request")
            let (device, _, _) = try await Self.start(api)
            let grant = try await Self.form(api, "/v1/device/token", [("grant_type", "password"), ("device_code", device), ("client_id", "dev-infra")])
            #expect(grant["error"] as? String == "unsupported_grant_type")
            let unknown = try await Self.poll(api, "not-a-code")
            #expect(unknown["error"] as? String == "invalid_grant")
            let json = try await api.call(.post, "/v1/device/code", body: #"{"client_id":"dev-infra","machine":"ci\u0007box"}"#)
            #expect(json.status == 200, "JSON too: \(json.text)")
        }
    }

    @Test func guessingUserCodesIsThrottled() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let devices = try await Self.service(server)
            let (_, code, _) = try await Self.start(api)
            for _ in 0..<10 {
                await #expect(throws: APIError.self) { _ = try await devices.pending(userCode: "BBBB-BBBB", throttleKey: "mallory") }
            }
            do {
                _ = try await devices.pending(userCode: code, throttleKey: "mallory")
                Issue.record("the right code after ten wrong ones should wait")
            } catch let error as APIError {
                #expect(error.code == "rate_limited", "\(error)")
            }
            #expect(try await devices.pending(userCode: code, throttleKey: "someone else").status == .pending)
        }
    }

    @Test func aKeyNobodyCollectsInTimeIsRevokedAndTheRequesterIsKnown() async throws {
        let server = TestServer()
        _ = try await server.seed()
        try await server.run { api in
            let devices = try await Self.service(server)
            let (device, code, _) = try await Self.start(api)
            let pending = try await devices.pending(userCode: code, throttleKey: "t")
            #expect(pending.requestedFrom == "127.0.0.1" || pending.requestedFrom == "::1", "\(String(describing: pending.requestedFrom))")
            let grant = try await devices.approve(userCode: code, throttleKey: "t", by: try await Self.alice(server), origin: .init(client: nil, requestID: nil))
            server.clock.advance(700)
            let late = try await Self.poll(api, device)
            #expect(late["error"] as? String == "expired_token", "\(late.text)")
            let keyID = try #require(grant.keyID)
            let key = try #require(try await server.repository.key(id: keyID))
            #expect(key.revokedAt != nil, "the uncollected key is revoked, not left sealed in the database")
        }
    }

    @Test func switchingAUserOffEndsTheirBrowserSessions() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let repository = try await server.repository
            let alice = try #require(try await repository.user(named: "alice"))
            let now = server.clock.read()
            try await repository.createSession(WebSession(id: "s1", userID: alice.id, csrfToken: "c", createdAt: now, expiresAt: now.addingTimeInterval(3600)))
            #expect(try await repository.session(id: "s1", now: now) != nil)
            #expect(try await api.call(.post, "/v1/disable", key: adminKey, body: #"{"user":"alice"}"#).status == 200)
            #expect(try await api.call(.post, "/v1/enable", key: adminKey, body: #"{"user":"alice"}"#).status == 200)
            #expect(try await repository.session(id: "s1", now: now) == nil, "enabling again does not revive the session")
        }
    }
}
