import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// `/device`: the browser half of `dev-infra login --web` (RFC 8628). Type or confirm the code,
/// see the machine and the scopes it asks for, approve or deny.
extension WebController {
    struct DeviceView {
        var code: String
        var codeError: String?
    }

    struct DeviceConfirmView {
        var code: String
        var display: String
        var machine: String
        var account: String
        var granted: [String]
        var withheld: [String]
        var hasWithheld: Bool
        var expires: String
        var keyName: String
        /// Where the CLI asked from and when: the one thing about the request the requester cannot choose.
        var requestedFrom: String
        var requestedAt: String
    }

    struct DeviceDoneView {
        var approved: Bool
        var machine: String
        var account: String
    }

    func device(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let signed = try await signedIn(request)
            guard let typed = try WebForm.query(request).text("user_code") else {
                return page("device", "Approve a device", signed, nav: .init(device: true), view: DeviceView(code: ""))
            }
            let code = DeviceService.normalize(typed)
            let grant: DeviceGrant
            do {
                grant = try await guarded(context, signed) { try await services.devices.pending(userCode: code, throttleKey: $0) }
            } catch let error as APIError where error.status == .notFound {
                return wrongCode(typed, error, signed)
            }
            let granted = grant.scopes.intersection(signed.principal.user.scopes)
            let withheld = grant.scopes.subtracting(granted).sorted().map(\.rawValue)
            let now = services.clock()
            let view = DeviceConfirmView(code: code, display: DeviceService.display(code), machine: grant.machine,
                                         account: signed.principal.user.name, granted: granted.sorted().map(\.rawValue),
                                         withheld: withheld, hasWithheld: !withheld.isEmpty,
                                         expires: "in \(WebPage.duration(grant.expiresAt.timeIntervalSince(now))) (\(WebPage.date(grant.expiresAt)))",
                                         keyName: "dev-infra CLI on \(grant.machine)", requestedFrom: grant.requestedFrom ?? "an unknown address",
                                         requestedAt: WebPage.date(grant.createdAt))
            return page("device-confirm", "Approve a device", signed, nav: .init(device: true), view: view)
        }
    }

    func approveDevice(_ request: Request, context: ServerContext) async throws -> Response {
        await answerDevice(request, context, approve: true)
    }

    func denyDevice(_ request: Request, context: ServerContext) async throws -> Response {
        await answerDevice(request, context, approve: false)
    }

    private func answerDevice(_ request: Request, _ context: ServerContext, approve: Bool) async -> Response {
        await respond(request, context) {
            let (signed, form, _) = try await posted(request, back: "/device", allowed: ["user_code"])
            guard let typed = form.text("user_code") else { throw APIError.invalidRequest("the form names no code") }
            let code = DeviceService.normalize(typed)
            let devices = services.devices
            let grant: DeviceGrant
            do {
                grant = try await guarded(context, signed) { (key: String) -> DeviceGrant in
                    if approve { return try await devices.approve(userCode: code, throttleKey: key, by: signed.principal, origin: context.origin) }
                    return try await devices.deny(userCode: code, throttleKey: key, by: signed.principal, origin: context.origin)
                }
            } catch let error as APIError where error.status == .notFound {
                return wrongCode(typed, error, signed)
            }
            let view = DeviceDoneView(approved: approve, machine: grant.machine, account: signed.principal.user.name)
            return page("device-done", approve ? "Device approved" : "Device denied", signed, nav: .init(device: true), view: view)
        }
    }

    /// The code form again, saying why (404: unknown, expired or already answered).
    private func wrongCode(_ typed: String, _ error: APIError, _ signed: SignedIn) -> Response {
        page("device", "Approve a device", signed, nav: .init(device: true),
             view: DeviceView(code: String(typed.prefix(20)), codeError: error.detail), status: error.status)
    }

    /// Wrong codes are throttled per session (by `DeviceService`, under the key it is given) and
    /// per client address (here, in the same limiter): 10, then 429 until it refills.
    private func guarded<T>(_ context: ServerContext, _ signed: SignedIn, _ call: (String) async throws -> T) async throws -> T {
        let guesses = services.devices.guesses
        let address = "page address " + ClientAddress.bucket(context.client)
        // Charged before the lookup (as `DeviceService.pending` charges the session's): lookups
        // sent at once cannot slip past a check that only counts misses afterwards.
        if let wait = guesses.take(address, now: services.clock()) {
            throw AuthMiddleware.tooMany("too many codes tried from this address", wait)
        }
        return try await call("page session " + signed.session.id)
    }
}
