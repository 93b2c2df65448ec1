import Foundation

/// A JSON value as a token's header or claims hold it. Decoded with `JSONDecoder`, which keeps
/// `true` apart from `1` (JSONSerialization's `NSNumber` does not, on every platform).
enum OIDCJSON: Decodable, Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case array([OIDCJSON])
    case object([String: OIDCJSON])
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([OIDCJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: OIDCJSON].self))
        }
    }

    /// A JSON object from bytes, or nil for anything else (not JSON, or JSON but not an object).
    static func object(from data: Data) -> [String: OIDCJSON]? {
        guard case .object(let members)? = try? JSONDecoder().decode(OIDCJSON.self, from: data) else { return nil }
        return members
    }

    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// A NumericDate (RFC 7519 §2): seconds since 1970, whole or not; nil for anything else, and
    /// for times beyond the year 5000 either way (which no date arithmetic downstream should meet).
    var seconds: Double? {
        let value: Double
        switch self {
        case .integer(let integer): value = Double(integer)
        case .number(let number): value = number
        default: return nil
        }
        return value.isFinite && abs(value) < 1e11 ? value : nil
    }

    /// A scalar as policy matching sees it: the text of a string, number or bool; nil for arrays,
    /// objects and null.
    var text: String? {
        switch self {
        case .string(let text): return text
        case .integer(let value): return String(value)
        case .number(let value):
            // 5.0 reads as 5, as a JSON writer that wrote 5 meant; other values as Swift prints them.
            if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .array, .object, .null: return nil
        }
    }
}
