import DevInfraCore
import Foundation
import Hummingbird

/// `POST /v1/introspect` (RFC 7662): a service that holds `keys:introspect` asks whether a key or
/// token a client sent it is good, optionally for a scope and a team in the same call.
///
/// Anything but a usable credential is `{"active": false}`, as the RFC requires; the reason code
/// is added (`"reason"`) only when the caller asks with `include_reason=true`, so a caller that
/// ignores it learns nothing it did not ask for. A caller bound to a team is answered for
/// credentials that may act for that team only: to it, any other reads `team_mismatch`.
struct IntrospectionController {
    let services: Services
    let verifier: Verifier

    init(services: Services) {
        self.services = services
        verifier = Verifier(services: services)
    }

    struct Input: Equatable {
        var token: String
        var requirements = Requirements()
        var includeReason = false
    }

    func introspect(_ request: Request, context: ServerContext) async throws -> Response {
        let caller = try context.requirePrincipal()
        try KeyRules.require(.keysIntrospect, caller)
        var request = request
        let body = try await request.collectBody(upTo: Services.maxBody)
        let input = try Self.parse(body, contentType: request.headers[.contentType])
        var requirements = input.requirements
        if let team = caller.team { requirements.teams.insert(team) }
        do {
            let principal = try await verifier.verify(input.token, requirements, budget: "introspect " + caller.bucket)
            verifier.count("key.introspected", by: caller, keyID: principal.keyID, principal: principal, code: nil, context: context)
            return Self.answer(Self.active(principal))
        } catch let error as APIError {
            verifier.count("key.introspected", by: caller, keyID: Authenticator.claimedKeyID(input.token), principal: nil, code: error.code,
                           context: context)
            return Self.answer(Self.inactive(error, includeReason: input.includeReason))
        }
    }

    static func answer(_ json: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// RFC 7662 §2.2, with dev-infra's own `key_id`, `team`, `kind` and `state`; sorted keys, as `Response.json` writes them.
    static func active(_ p: Principal) -> String {
        var out = "{\"active\":true"
        if let exp = p.expiresAt { out += ",\"exp\":\(Int64(exp.timeIntervalSince1970.rounded(.down)))" }
        if let iat = p.issuedAt { out += ",\"iat\":\(Int64(iat.timeIntervalSince1970.rounded(.down)))" }
        if let keyID = p.keyID { out += ",\"key_id\":" + JSONText.quoted(keyID) }
        out += ",\"kind\":" + JSONText.quoted(p.kind.rawValue)
        out += ",\"scope\":" + JSONText.quoted(Scope.encode(p.scopes))
        out += ",\"state\":" + JSONText.quoted(p.state)
        out += ",\"sub\":" + JSONText.quoted(String(p.user.id))
        if let team = p.team { out += ",\"team\":" + JSONText.quoted(team) }
        out += ",\"token_type\":\"Bearer\",\"username\":" + JSONText.quoted(p.user.name) + "}"
        return out
    }

    static func inactive(_ error: APIError, includeReason: Bool) -> String {
        guard includeReason else { return "{\"active\":false}" }
        var out = "{\"active\":false,\"reason\":" + JSONText.quoted(error.code)
        if let wait = error.retryAfter { out += ",\"retry_after\":\(wait)" }
        return out + "}"
    }

    static let fields: Set<String> = ["token", "token_type_hint", "scope", "team", "include_reason"]

    /// A form (RFC 7662's encoding) or a JSON object with the same fields. A parameter given twice
    /// is refused (RFC 6749 §3.2), as is an empty token: both are the caller's mistake, not an inactive key.
    /// On every call a service makes, so without Foundation's string functions where it can.
    static func parse(_ body: ByteBuffer, contentType: String?) throws -> Input {
        let type = contentType.map { Authenticator.trimmed($0.split(separator: ";", maxSplits: 1).first ?? "").lowercased() }
        var fields: [String: String] = [:]
        var includeReason = false
        switch type {
        case "application/x-www-form-urlencoded":
            guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
                throw APIError.invalidRequest("the form is not UTF-8")
            }
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = formDecoded(parts[0]), let value = formDecoded(parts.count > 1 ? parts[1] : Substring()) else {
                    throw APIError.invalidRequest("the form holds a malformed %-escape")
                }
                // Extension parameters (RFC 7662 §2.1) are ignored; one of ours given twice is refused.
                guard Self.fields.contains(name) else { continue }
                guard fields.updateValue(value, forKey: name) == nil else { throw APIError.invalidRequest("parameter \"\(name)\" is given twice") }
            }
            switch fields["include_reason"] {
            case nil, "false": break
            case "true": includeReason = true
            default: throw APIError.invalidRequest("include_reason must be true or false")
            }
        case "application/json":
            struct Body: Decodable { var token: String; var token_type_hint: String?; var scope: String?; var team: String?; var include_reason: Bool? }
            let json = try JSONBody.decodeAPI(Body.self, from: Data(buffer: body), allowed: Self.fields)
            fields["token"] = json.token
            fields["scope"] = json.scope
            fields["team"] = json.team
            includeReason = json.include_reason ?? false
        default:
            throw APIError.invalidRequest("send the token as application/x-www-form-urlencoded (RFC 7662) or application/json")
        }
        guard let token = fields["token"], !token.isEmpty else { throw APIError.invalidRequest("parameter \"token\" is required") }
        // A blank scope is a caller's configuration gone wrong (an unset variable), not "no scope".
        if let scope = fields["scope"], !scope.contains(where: { $0 != " " }) { throw APIError.invalidRequest("parameter \"scope\" is empty") }
        var input = Input(token: token, includeReason: includeReason)
        if let scope = fields["scope"] { try input.requirements.addScopes(scope) }
        if let team = fields["team"] { try input.requirements.addTeam(team) }
        return input
    }

    /// `application/x-www-form-urlencoded`: `+` is a space, then %-escapes. A key or a scope
    /// name has neither, and is taken as it is (Foundation's decoding is most of a form's cost).
    static func formDecoded(_ text: Substring) -> String? {
        guard text.contains(where: { $0 == "%" || $0 == "+" }) else { return String(text) }
        return text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

extension JSONBody {
    /// Strict JSON decoding, its refusals as the API's 400.
    static func decodeAPI<T: Decodable>(_ type: T.Type, from body: Data, allowed: Set<String>) throws -> T {
        do { return try decode(type, from: body, allowed: allowed) } catch let error as JSONBodyError {
            throw APIError.invalidRequest(error.message)
        }
    }
}
