import Foundation

extension AccountController.WhoamiView {
    /// The same bytes `Response.json` writes (sorted keys, nil fields left out, ISO 8601 dates,
    /// `/` escaped as JSONEncoder does), without its reflection-heavy encoder. A test compares the
    /// two on awkward inputs.
    var json: String {
        var out = "{\"admin\":\(admin ? "true" : "false")"
        if let expiresAt { out += ",\"expires_at\":" + JSONText.quoted(JSONText.iso8601(expiresAt)) }
        if let keyID { out += ",\"key_id\":" + JSONText.quoted(keyID) }
        out += ",\"kind\":" + JSONText.quoted(kind)
        out += ",\"scopes\":[" + scopes.map(JSONText.quoted).joined(separator: ",") + "]"
        if let team { out += ",\"team\":" + JSONText.quoted(team) }
        out += ",\"teams\":[" + teams.map(JSONText.quoted).joined(separator: ",") + "]"
        out += ",\"user\":" + JSONText.quoted(user) + "}"
        return out
    }

}

/// Small JSON bodies written by hand for the hottest endpoints (whoami, introspection, check):
/// the same bytes `JSONEncoder` with `.sortedKeys` and `.iso8601` writes.
enum JSONText {
    static func quoted(_ text: String) -> String {
        // Names, ids and scopes rarely hold anything to escape: then the text goes in as it is.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "/") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/": out += "\\/"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `2026-11-28T05:44:33Z`: what `JSONEncoder`'s `.iso8601` strategy writes.
    static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
