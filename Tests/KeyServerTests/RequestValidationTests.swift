import Foundation
import Testing

/// Bad bodies are refused with the field named; big ones with 413; nothing is created.
@Suite struct RequestValidationTests {
    @Test func malformedBodiesNameTheField() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let cases: [(String, String)] = [
                ("not json", "JSON object"),
                (#"{"name":"x","scopes":["keys:read"],"colour":"red"}"#, "unknown field \"colour\""),
                (#"{"name":5,"scopes":["keys:read"]}"#, "field \"name\" must be a string"),
                (#"{"scopes":["keys:read"]}"#, "field \"name\" is required"),
                (#"{"name":"x","scopes":"keys:read"}"#, "field \"scopes\""),
                (#"{"name":"x","scopes":["keys:sudo"]}"#, "unknown scope \"keys:sudo\""),
                (#"{"name":"x","scopes":[]}"#, "at least one scope"),
                (#"{"name":"x","scopes":["keys:read"],"expires_in":-5}"#, "expires_in"),
            ]
            for (body, fragment) in cases {
                let reply = try await api.call(.post, "/v1/keys", key: adminKey, body: body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.code == "invalid_request")
                #expect((reply["detail"] as? String)?.contains(fragment) == true, "\(body): \(reply.text)")
            }
            let big = #"{"name":""# + String(repeating: "a", count: 70_000) + #"","scopes":["keys:read"]}"#
            let tooLarge = try await api.call(.post, "/v1/keys", key: adminKey, body: big)
            #expect(tooLarge.status == 413 && tooLarge.code == "body_too_large")
            #expect(try await api.call(.get, "/v1/keys", key: adminKey).items.count == 1, "only the bootstrap key exists")
            #expect(try await api.call(.get, "/v1/keys/short", key: adminKey).status == 400)
            #expect(try await api.call(.get, "/v1/nothing", key: adminKey).status == 404)
        }
    }

    @Test func healthAndOpenAPIAreOpen() async throws {
        let server = TestServer()
        try await server.run { api in
            #expect(try await api.call(.get, "/healthz").status == 200)
            let spec = try await api.call(.get, "/openapi.yaml")
            #expect(spec.status == 200)
            #expect(spec.text.hasPrefix("openapi: 3.1"))
        }
    }
}
