import DevInfraCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import KeyServer

/// Reads of key ids that do not exist are budgeted: the checksum is public, so anyone can make
/// well-formed keys, and each unknown one would otherwise be a database read. Once the budget is
/// spent, a key not in memory is a 429 before any read (a read would say `unknown_key`), and a key
/// in memory is still served. `CheckTests` covers `/v1/check`; these, the API and introspection.
@Suite struct UnknownKeyBudgetTests {
    static func server() -> TestServer {
        let server = TestServer()
        server.limits.unknownKeyBurst = 3
        server.limits.unknownKeysPerSecond = 0.001
        server.limits.refusalBurst = 1000  // the refusal throttle stays out of the way
        return server
    }

    @Test func theAPIPerClientAddress() async throws {
        let server = Self.server()
        let adminKey = try await server.seed()
        try await server.run { api in
            #expect(try await api.call(.get, "/v1/whoami", key: adminKey).status == 200)
            for _ in 0..<3 { #expect(try await api.call(.get, "/v1/whoami", key: APIKey.generate().rawValue).code == "unknown_key") }
            let dry = try await api.call(.get, "/v1/whoami", key: APIKey.generate().rawValue)
            #expect(dry.status == 429 && dry.code == "rate_limited" && dry.headers[.retryAfter] != nil, "\(dry.text)")
            #expect(try await api.call(.get, "/v1/whoami", key: adminKey).status == 200, "a key in memory is still served")
        }
    }

    @Test func introspectionPerAskingService() async throws {
        let server = Self.server()
        let adminKey = try await server.seed()
        try await server.run { api in
            let service = try #require(try await api.createKey(adminKey, name: "svc", scopes: ["keys:introspect"])["api_key"] as? String)
            func reason(_ token: String) async throws -> String {
                let reply = try await IntrospectionTests.introspect(api, as: service, [("token", token), ("include_reason", "true")])
                return reply["reason"] as? String ?? (reply["active"] as? Bool == true ? "active" : reply.text)
            }
            #expect(try await reason(adminKey) == "active")
            for _ in 0..<3 { #expect(try await reason(APIKey.generate().rawValue) == "unknown_key") }
            #expect(try await reason(APIKey.generate().rawValue) == "rate_limited")
            #expect(try await reason(adminKey) == "active", "a key in memory is still answered")
            #expect(try await api.call(.get, "/v1/whoami", key: APIKey.generate().rawValue).code == "unknown_key",
                    "the service's budget is its own, not the client address's")
        }
    }
}
