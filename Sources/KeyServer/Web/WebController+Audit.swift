import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// `/audit`, for admins: the newest 100 rows, filtered by event, actor and key id, as
/// `GET /v1/audit` filters them (and with the same rights: an admin's session holds `audit:read`).
extension WebController {
    struct AuditRow {
        var at: String
        var event: String
        var actor: String
        var credential: String
        var keyID: String
        var target: String
        var team: String
        var code: String
        var client: String
        var count: String
        var reason: String
    }

    struct AuditView {
        var filterEvent: String
        var filterActor: String
        var filterKey: String
        var heading: String
        var rows: [AuditRow]
        var hasRows: Bool
    }

    static let auditRows = 100

    func audit(_ request: Request, context: ServerContext) async throws -> Response {
        await respond(request, context) {
            let signed = try await signedIn(request)
            let p = signed.principal
            guard p.isAdmin else { throw APIError(.adminRequired, "the audit log is for admins", scope: "admin") }
            guard p.scopes.contains(.auditRead) else { throw APIError(.insufficientScope, "this needs the audit:read scope", scope: "audit:read") }
            let query = try WebForm.query(request)
            let event = query.text("event"), actor = query.text("actor"), keyID = query.text("key_id")
            // Refusals counted in memory are written first, so the page shows them (as /v1/audit does).
            try await services.rejections.flush(to: services.repository)
            try await services.checks.flush(to: services.repository)
            let events = try await newestAudit(keyID: keyID, actor: actor, event: event, count: Self.auditRows)
            let rows = events.map { e in
                AuditRow(at: WebPage.date(e.at), event: e.event, actor: e.actor ?? "", credential: e.credential ?? "", keyID: e.keyID ?? "",
                         target: e.target ?? "", team: e.team ?? "", code: e.code ?? "", client: e.client ?? "", count: String(e.count),
                         reason: e.reason ?? "")
            }
            let filtered = event != nil || actor != nil || keyID != nil
            let view = AuditView(filterEvent: event ?? "", filterActor: actor ?? "", filterKey: keyID ?? "",
                                 heading: (rows.count == 1 ? "The newest row" : "The newest \(rows.count) rows") + (filtered ? " that match" : ""),
                                 rows: rows, hasRows: !rows.isEmpty)
            return page("audit", "Audit", signed, nav: .init(audit: true), view: view)
        }
    }

    /// The newest `count` rows matching the filters, newest first. The store reads forward from a
    /// cursor (`after`, ascending ids), so this finds the last id (a binary search of one-row
    /// reads by primary key, about 40 at most), then reads windows of ids back from it, each four
    /// times the last, until one holds `count` matching rows or reaches the first id.
    func newestAudit(keyID: String?, actor: String?, event: String?, count: Int) async throws -> [AuditEvent] {
        let repository = services.repository
        func first(after id: Int64) async throws -> Int64? {
            try await repository.audit(keyID: nil, actor: nil, credential: nil, event: nil, after: id, limit: 1).first?.id
        }
        guard var low = try await first(after: 0) else { return [] }
        // `low` is a row's id; no row lies after `high`.
        var high = max(low, 1024)
        while let id = try await first(after: high) {
            low = id
            guard id < Int64.max / 2 else { high = Int64.max; break }
            high = id * 2
        }
        while low < high {
            let middle = low + (high - low) / 2
            if let id = try await first(after: middle) { low = id } else { high = middle }
        }
        var window: Int64 = 512
        while true {
            let from = max(0, low - window)
            // Rows written meanwhile come after `low`: the slack keeps them from crowding out older ones.
            let rows = try await repository.audit(keyID: keyID, actor: actor, credential: nil, event: event, after: from,
                                                  limit: Int(clamping: min(low - from, 1 << 40)) + 256)
            if rows.count >= count || from == 0 { return Array(rows.suffix(count).reversed()) }
            window = window < Int64.max / 4 ? window * 4 : Int64.max
        }
    }
}
