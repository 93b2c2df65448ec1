import DevInfraCore
import Foundation
import Testing

/// `JSONBody.decode`, the server's strict body decoding (Fuzz/FuzzJSONBody fuzzes it): each refusal
/// names the field, with the messages the API documents.
struct JSONBodyTests {
    struct CreateBody: Decodable, Equatable {
        var name: String
        var scopes: [String]
        var team: String?
        var expiresIn: Int?
        enum CodingKeys: String, CodingKey { case name, scopes, team, expiresIn = "expires_in" }
    }

    struct RotateBody: Decodable, Equatable {
        var graceSeconds: Int?
        enum CodingKeys: String, CodingKey { case graceSeconds = "grace_seconds" }
    }

    let createFields: Set<String> = ["name", "scopes", "team", "expires_in"]

    func refusal(_ body: String, allowEmpty: Bool = false) -> String? {
        do {
            _ = try JSONBody.decode(CreateBody.self, from: Data(body.utf8), allowed: createFields, allowEmpty: allowEmpty)
            return nil
        } catch let error as JSONBodyError {
            return error.message
        } catch {
            return "not a JSONBodyError: \(error)"
        }
    }

    @Test func aValidBodyDecodes() throws {
        let body = Data(#"{"name":"ci","scopes":["keys:read"],"team":null,"expires_in":3600}"#.utf8)
        #expect(try JSONBody.decode(CreateBody.self, from: body, allowed: createFields)
                == CreateBody(name: "ci", scopes: ["keys:read"], team: nil, expiresIn: 3600))
    }

    @Test("each refusal names the field", arguments: [
        ("not json", "the body must be a JSON object"),
        ("[1]", "the body must be a JSON object"),
        ("", "the body must be a JSON object"),
        (#"{"name":"x","scopes":[],"colour":"red","b":1}"#, "unknown field \"b\"; allowed: expires_in, name, scopes, team"),
        (#"{"name":5,"scopes":[]}"#, "field \"name\" must be a string"),
        (#"{"name":"x","scopes":["a",2]}"#, "field \"scopes.1\" must be a string"),
        (#"{"name":"x","scopes":"a"}"#, "field \"scopes\" must be an array of strings"),
        (#"{"name":"x","scopes":[],"expires_in":"1"}"#, "field \"expires_in\" must be a number"),
        (#"{"name":null,"scopes":[]}"#, "field \"name\" must be a string"),
        (#"{"scopes":[]}"#, "field \"name\" is required"),
        (#"{"name":"x","scopes":[],"expires_in":1.5}"#, "the body is not valid for this endpoint"),
    ])
    func refusals(body: String, message: String) {
        #expect(refusal(body) == message)
    }

    @Test func anEmptyBodyIsAnEmptyObjectOnlyWhenAllowed() throws {
        #expect(try JSONBody.decode(RotateBody.self, from: Data(), allowed: ["grace_seconds"], allowEmpty: true) == RotateBody())
        #expect(throws: JSONBodyError(message: "the body must be a JSON object")) {
            try JSONBody.decode(RotateBody.self, from: Data(), allowed: ["grace_seconds"])
        }
        #expect(refusal("", allowEmpty: true) == "field \"name\" is required")
    }
}
