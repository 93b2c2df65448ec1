import DevInfraCore
import Foundation

/// The body of `POST /v1/keys`, as KeysController declares it (plus Encodable for the round trip).
struct CreateBody: Codable, Equatable {
    var name: String
    var scopes: [String]
    var team: String?
    var expiresIn: Int?
    enum CodingKeys: String, CodingKey { case name, scopes, team, expiresIn = "expires_in" }
}

/// The body of `POST /v1/keys/{id}/rotate`.
struct RotateBody: Codable, Equatable {
    var graceSeconds: Int?
    enum CodingKeys: String, CodingKey { case graceSeconds = "grace_seconds" }
}

/// The body of `POST /v1/keys/{id}/revoke`.
struct RevokeBody: Codable, Equatable { var reason: String? }

let createFields: Set<String> = ["name", "scopes", "team", "expires_in"]
let rotateFields: Set<String> = ["grace_seconds"]
let revokeFields: Set<String> = ["reason"]

/// Decodes `body`; anything but a value or a `JSONBodyError` (which the server answers with 400)
/// is a bug, and so is a value that does not survive encoding and decoding again.
func check<T: Codable & Equatable>(_ kind: T.Type, _ body: Data, allowed: Set<String>, allowEmpty: Bool) {
    let value: T
    do {
        value = try JSONBody.decode(kind, from: body, allowed: allowed, allowEmpty: allowEmpty)
    } catch let error as JSONBodyError {
        precondition(!error.message.isEmpty)
        return
    } catch {
        preconditionFailure("JSONBody.decode threw \(type(of: error)), not JSONBodyError")
    }
    let encoded: Data
    do { encoded = try JSONEncoder().encode(value) } catch { preconditionFailure("cannot re-encode \(value): \(error)") }
    do {
        let again = try JSONBody.decode(kind, from: encoded, allowed: allowed, allowEmpty: false)
        precondition(again == value, "round trip changed \(value) into \(again)")
    } catch {
        preconditionFailure("the encoding of an accepted body is refused: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    check(CreateBody.self, body, allowed: createFields, allowEmpty: false)
    check(RotateBody.self, body, allowed: rotateFields, allowEmpty: true)
    check(RevokeBody.self, body, allowed: revokeFields, allowEmpty: true)
    return 0
}
