import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// `/keys`: the signed-in person's keys (admins: everyone's, filtered), create, rotate with a
/// grace period, revoke with a reason; rotate and revoke through a confirmation page. Every
/// change goes through `KeyService` with the session's principal: the API's rules, the API's audit.
extension WebController {
    struct KeyRow {
        var name: String
        var id: String
        var owner: String
        var state: String
        var rowNote: String?
        var scopes: [String]
        var team: String
        var lastUsed: String
        var expires: String
        var canRotate: Bool
        var canRevoke: Bool
    }

    struct KeyFilters {
        var all: Bool
        var owner: String
        var team: String
    }

    struct ScopeOption {
        var scope: String
        var inputID: String
        var about: String
        var checked: Bool
    }

    struct ExpiryOption {
        var value: String
        var label: String
        var selected: Bool
    }

    struct KeysView {
        var notice: String?
        var filters: KeyFilters?
        var heading: String
        var rows: [KeyRow]
        var hasRows: Bool
        var nextPage: String?
        var scopeOptions: [ScopeOption]
        var teamChoice: Bool
        var teams: [String]
        var teamFree: Bool
        var expiryOptions: [ExpiryOption]
    }

    struct CreatedView {
        var name: String
        var id: String
        var rawKey: String
        var scopes: [String]
        var team: String
        var expires: String
        var graceNote: String?
    }

    struct ConfirmView {
        var rotate: Bool
        var revoke: Bool
        var id: String
        var name: String
    }

    static let pageSize = 100

    /// The checkbox of a scope: `scope-keys-read`.
    static func scopeInputID(_ scope: Scope) -> String { "scope-" + scope.rawValue.replacingOccurrences(of: ":", with: "-") }

    static let scopeAbout: [Scope: String] = [
        .keysRead: "see keys", .keysWrite: "create, rotate and revoke keys", .projectsRead: "read the team's projects",
        .projectsWrite: "create projects", .auditRead: "read the audit log", .keysIntrospect: "ask the server about other keys (services)",
        .admin: "everything, for every team",
    ]

    func keys(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let signed = try await signedIn(request)
            let principal = signed.principal
            let query = try WebForm.query(request)
            let all = try Services.flag(query.text("all"), "all")
            let owner = query.text("owner"), team = query.text("team")
            let records = try await services.keys.list(.init(all: all, team: team, owner: owner, cursor: query.text("cursor"), limit: Self.pageSize),
                                                       by: principal)
            let now = services.clock()
            var next: String?
            if records.count == Self.pageSize, let last = records.last {
                next = "/keys?" + WebGuard.query([("all", all ? "true" : nil), ("owner", owner), ("team", team), ("cursor", last.keyID)])
            }
            let revoked = query.text("revoked").flatMap { id -> String? in APIKey.isKeyID(id) ? "The key \(id) was revoked." : nil }
            let rows = records.map { row($0, now: now) }
            let view = KeysView(notice: revoked, filters: principal.isAdmin ? KeyFilters(all: all, owner: owner ?? "", team: team ?? "") : nil,
                                heading: Self.heading(all: all, owner: owner, team: team), rows: rows, hasRows: !rows.isEmpty, nextPage: next,
                                scopeOptions: Self.scopeOptions(principal), teamChoice: !principal.isAdmin, teams: principal.user.teams,
                                teamFree: principal.isAdmin, expiryOptions: Self.expiryOptions)
            return page("keys", "Keys", signed, nav: .init(keys: true), view: view)
        }
    }

    static func heading(all: Bool, owner: String?, team: String?) -> String {
        if let owner { return "Keys of \(owner)" + (team.map { " in team \($0)" } ?? "") }
        if let team { return "Keys of team \(team)" }
        return all ? "Everyone’s keys" : "Your keys"
    }

    /// A box for each scope the session may grant; `keys:read` ticked.
    static func scopeOptions(_ principal: Principal) -> [ScopeOption] {
        principal.scopes.sorted().map { scope in
            ScopeOption(scope: scope.rawValue, inputID: scopeInputID(scope), about: scopeAbout[scope] ?? "", checked: scope == .keysRead)
        }
    }

    static let expiryOptions: [ExpiryOption] = [
        ExpiryOption(value: "86400", label: "in 1 day", selected: false),
        ExpiryOption(value: "604800", label: "in 7 days", selected: false),
        ExpiryOption(value: "2592000", label: "in 30 days", selected: false),
        ExpiryOption(value: "7776000", label: "in 90 days", selected: true),
        ExpiryOption(value: "31536000", label: "in 1 year", selected: false),
        ExpiryOption(value: "", label: "never", selected: false),
    ]

    func row(_ record: KeyRecord, now: Date) -> KeyRow {
        let state = record.state(at: now)
        var note: String?
        switch state {
        case .rotating: note = "replaced by \(record.rotatedTo ?? "?"), works until \(WebPage.date(record.graceEndsAt))"
        case .revoked: note = "by \(record.revokedBy ?? "?")" + (record.revokeReason.map { ": \($0)" } ?? "")
        case .disabled: note = "its owner or team is switched off"
        case .active, .expired: note = nil
        }
        return KeyRow(name: record.name, id: record.keyID, owner: record.ownerName, state: state.rawValue, rowNote: note,
                      scopes: record.scopes.sorted().map(\.rawValue), team: record.team ?? "none", lastUsed: WebPage.date(record.lastUsedAt),
                      expires: WebPage.date(record.expiresAt), canRotate: state == .active,
                      canRevoke: state == .active || state == .rotating || state == .disabled)
    }

    /// The raw key is in this answer's body only: never in a URL, a header or the log.
    func createKey(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            // The scope checkboxes share the name `scopes` (one value each): the one field that may repeat.
            let (signed, form, data) = try await posted(request, back: "/keys", allowed: ["name", "scopes", "team", "expires_in"],
                                                        repeatable: ["scopes"])
            let scopes = form.values("scopes")
            guard !scopes.isEmpty else { throw APIError.invalidRequest("tick at least one scope") }
            let expiresIn = try Self.whole(form.text("expires_in"), "expires_in")
            let minted = try await services.keys.create(.init(name: form["name"] ?? "", scopes: scopes, team: form.text("team"), expiresIn: expiresIn,
                                                              idempotencyKey: nil, requestHash: KeyService.hash("POST /keys", data), integration: nil,
                                                              rateLimit: nil, quota: nil),
                                                        by: signed.principal, origin: context.origin)
            return created(minted, signed, title: "Key created", graceNote: nil)
        }
    }

    func created(_ minted: MintedKey, _ signed: SignedIn, title: String, graceNote: String?) -> Response {
        let record = minted.record
        let view = CreatedView(name: record.name, id: record.keyID, rawKey: minted.rawKey, scopes: record.scopes.sorted().map(\.rawValue),
                               team: record.team ?? "none", expires: WebPage.date(record.expiresAt), graceNote: graceNote)
        return page("key-created", title, signed, nav: .init(keys: true), view: view)
    }

    func confirmRotate(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let signed = try await signedIn(request)
            let record = try await services.keys.show(context.parameters.get("id") ?? "", by: signed.principal)
            let now = services.clock()
            guard record.state(at: now) == .active else { throw KeyService.notActive(record, now) }
            return page("confirm", "Rotate a key", signed, nav: .init(keys: true),
                        view: ConfirmView(rotate: true, revoke: false, id: record.keyID, name: record.name))
        }
    }

    func rotateKey(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let id = context.parameters.get("id") ?? ""
            let (signed, form, data) = try await posted(request, back: "/keys", allowed: ["grace_seconds"])
            let grace = try Self.whole(form.text("grace_seconds"), "grace_seconds")
            let minted = try await services.keys.rotate(id, .init(graceSeconds: grace, idempotencyKey: nil,
                                                                  requestHash: KeyService.hash("POST /keys/\(id)/rotate", data)),
                                                        by: signed.principal, origin: context.origin)
            let kept = TimeInterval(grace ?? 7 * 24 * 3600)
            let until = WebPage.date(services.clock().addingTimeInterval(kept))
            let note = kept == 0 ? "\(id) stopped working now." : "\(id) keeps working for \(WebPage.duration(kept)), until \(until)."
            return created(minted, signed, title: "Key rotated", graceNote: note)
        }
    }

    func confirmRevoke(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let signed = try await signedIn(request)
            let record = try await services.keys.show(context.parameters.get("id") ?? "", by: signed.principal)
            guard record.revokedAt == nil else { throw APIError(.keyNotActive, "key \(record.keyID) is revoked already") }
            return page("confirm", "Revoke a key", signed, nav: .init(keys: true),
                        view: ConfirmView(rotate: false, revoke: true, id: record.keyID, name: record.name))
        }
    }

    func revokeKey(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let (signed, form, _) = try await posted(request, back: "/keys", allowed: ["reason"])
            let record = try await services.keys.revoke(context.parameters.get("id") ?? "", reason: form.text("reason"), by: signed.principal,
                                                        origin: context.origin)
            return WebPage.redirect("/keys?" + WebGuard.query([("revoked", record.keyID)]))
        }
    }

    /// A whole number from a select, or nil when the field is absent or empty.
    static func whole(_ text: String?, _ field: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text) else { throw APIError.invalidRequest("\(field) must be a whole number of seconds") }
        return value
    }
}
