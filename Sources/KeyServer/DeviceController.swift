import DevInfraCore
import Foundation
import Hummingbird

/// `POST /v1/device/code` and `POST /v1/device/token` (RFC 8628 §3.1 and §3.4): no credential, a
/// form (or JSON) body, and RFC 6749's `{"error": ...}` answers, which OAuth clients expect, not
/// problem+json. HTTP only: the grant's rules are in `DeviceService`.
struct DeviceController {
    let services: Services
    var devices: DeviceService { services.devices }

    func register(_ v1: RouterGroup<ServerContext>) {
        v1.post("device/code", use: code)
        v1.post("device/token", use: token)
    }

    struct CodeView: Encodable {
        var deviceCode: String
        var userCode: String
        var verificationURI: String
        var verificationURIComplete: String
        var expiresIn: Int
        var interval: Int
        enum CodingKeys: String, CodingKey {
            case deviceCode = "device_code", userCode = "user_code", verificationURI = "verification_uri"
            case verificationURIComplete = "verification_uri_complete", expiresIn = "expires_in", interval
        }
    }

    func code(_ request: Request, context: ServerContext) async throws -> Response {
        do {
            let fields = try await Self.fields(request, services: services, allowed: ["client_id", "scope", "machine"])
            let started = try await devices.start(clientID: fields["client_id"], scope: fields["scope"], machine: fields["machine"],
                                                  client: context.client)
            let base = Self.baseURL(request, services: services)
            return try .json(CodeView(deviceCode: started.deviceCode, userCode: started.userCode, verificationURI: base + "/device",
                                      verificationURIComplete: base + "/device?user_code=" + started.userCode,
                                      expiresIn: started.expiresIn, interval: started.interval))
        } catch let error as DeviceService.GrantError {
            return try Self.answer(error)
        }
    }

    struct TokenView: Encodable {
        var accessToken: String
        var tokenType = "Bearer"
        var key: KeyView
        enum CodingKeys: String, CodingKey { case accessToken = "access_token", tokenType = "token_type", key }
    }

    func token(_ request: Request, context: ServerContext) async throws -> Response {
        do {
            let fields = try await Self.fields(request, services: services, allowed: ["grant_type", "device_code", "client_id"])
            let minted = try await devices.poll(grantType: fields["grant_type"], deviceCode: fields["device_code"], clientID: fields["client_id"])
            return try .json(TokenView(accessToken: minted.rawKey, key: KeyView(minted.record, now: services.clock())))
        } catch let error as DeviceService.GrantError {
            return try Self.answer(error)
        }
    }

    /// RFC 6749 §5.2.
    static func answer(_ error: DeviceService.GrantError) throws -> Response {
        struct Body: Encodable { var error: String; var error_description: String }
        return try .json(Body(error: error.error, error_description: error.description), status: .init(code: error.status))
    }

    /// The public address the person's browser should open: this request's own scheme and host
    /// (a proxy in front passes its Host through).
    static func baseURL(_ request: Request, services: Services) -> String {
        if let publicURL = services.publicURL { return publicURL }
        let host = request.head.authority ?? "127.0.0.1"
        let safe = host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) } ? host : "127.0.0.1"
        return (services.servesTLS ? "https://" : "http://") + safe
    }

    /// The body's fields: a form (RFC 8628's encoding) or a JSON object of strings; a field given
    /// twice is refused, unknown ones are ignored (RFC 6749 §3.2).
    static func fields(_ request: Request, services: Services, allowed: Set<String>) async throws -> [String: String] {
        let body = try await services.body(of: request)
        let type = request.headers[.contentType].map { Authenticator.trimmed($0.split(separator: ";", maxSplits: 1).first ?? "").lowercased() }
        var fields: [String: String] = [:]
        switch type {
        case "application/json":
            guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw DeviceService.GrantError(error: "invalid_request", description: "the body must be a JSON object")
            }
            for (name, value) in object where allowed.contains(name) {
                guard let text = value as? String else {
                    throw DeviceService.GrantError(error: "invalid_request", description: "\(Limits.clip(name, 40) ?? "") must be a string")
                }
                fields[name] = text
            }
        default:
            guard let text = String(data: body, encoding: .utf8) else {
                throw DeviceService.GrantError(error: "invalid_request", description: "the form is not UTF-8")
            }
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = IntrospectionController.formDecoded(parts[0]),
                      let value = IntrospectionController.formDecoded(parts.count > 1 ? parts[1] : Substring()) else {
                    throw DeviceService.GrantError(error: "invalid_request", description: "the form holds a malformed %-escape")
                }
                guard allowed.contains(name) else { continue }
                guard fields.updateValue(value, forKey: name) == nil else {
                    throw DeviceService.GrantError(error: "invalid_request", description: "parameter \(name) is given twice")
                }
            }
        }
        return fields
    }
}
