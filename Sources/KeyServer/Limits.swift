import DevInfraCore
import Foundation

/// Bounds on every number and string that comes from a request. A value outside them is a 400
/// `invalid_request` naming the field, never a trap in the date code further down.
enum Limits {
    /// Key lifetimes and rotation grace: at most ten years.
    static let maxLifetimeSeconds = 10 * 365 * 24 * 3600
    static let maxNameLength = 100
    static let maxReasonLength = 500
    static let maxIdempotencyKeyLength = 200
    /// What the audit keeps of a name a client sent (an unknown username, say).
    static let maxAuditText = 64

    /// `value` seconds when `0 < value <= max` (or `>= 0` with `allowZero`), else a 400 naming `field`.
    static func seconds(_ value: Int, field: String, allowZero: Bool = false) throws -> TimeInterval {
        let low = allowZero ? 0 : 1
        guard value >= low, value <= maxLifetimeSeconds else {
            throw APIError.invalidRequest("field \"\(field)\" must be between \(low) and \(maxLifetimeSeconds) seconds (ten years)")
        }
        return TimeInterval(value)
    }

    /// `text` without surrounding whitespace (newlines included), when it then has 1 to `max`
    /// Unicode code points (what JSON Schema's `maxLength` counts); else a 400 naming `field`.
    static func name(_ text: String, field: String, max: Int = maxNameLength) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, text.unicodeScalars.count <= max else {
            throw APIError.invalidRequest("field \"\(field)\" must be 1 to \(max) characters, not blank")
        }
        try printable(trimmed, field: field)
        return trimmed
    }

    /// At most `max` code points, or a 400 naming `field`.
    static func text(_ text: String?, field: String, max: Int) throws -> String? {
        guard let text else { return nil }
        guard text.unicodeScalars.count <= max else { throw APIError.invalidRequest("\(field) must be at most \(max) characters") }
        try printable(text, field: field)
        return text
    }

    /// No control characters, and none of the invisible ones that reorder or hide text (bidi
    /// overrides, zero-width marks): names and reasons are printed on an admin's terminal by
    /// `dev-infra list` and `show`. `openapi.yaml` states the same set as a pattern.
    static func printable(_ text: String, field: String) throws {
        if text.unicodeScalars.contains(where: Printable.isHidden) {
            throw APIError.invalidRequest("field \"\(field)\" must not hold control or invisible formatting characters")
        }
    }

    /// Counted in Unicode scalars, so one grapheme with 30,000 combining marks is 30,000, not 1;
    /// control characters become `?`.
    static func clip(_ text: String?, _ max: Int = maxAuditText) -> String? {
        guard let text else { return nil }
        // Printable ASCII within the limit, the usual name or team, is kept as it is.
        if text.utf8.count <= max, text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var scalars = String.UnicodeScalarView(text.unicodeScalars.prefix(text.unicodeScalars.count > max ? max - 1 : max).map {
            $0.properties.generalCategory == .control || $0.properties.generalCategory == .format ? "?" : $0
        })
        if text.unicodeScalars.count > max { scalars.append("…") }
        return String(scalars)
    }
}

extension Date {
    /// Whole seconds since 1970, total: a date outside what an Int64 holds is clamped, not a trap.
    var epochSeconds: Int64 {
        let value = timeIntervalSince1970.rounded(.down)
        guard value.isFinite else { return value > 0 ? Int64.max : Int64.min }
        if value >= 9.2e18 { return Int64.max }
        if value <= -9.2e18 { return Int64.min }
        return Int64(value)
    }
}
