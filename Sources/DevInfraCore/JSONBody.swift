import Foundation

/// Why a request body was refused; `message` names the field, never its value. The server answers
/// it with 400 `invalid_request`.
public struct JSONBodyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Strict decoding of a JSON request body: an object, with only `allowed` fields, whose errors name
/// the field that is unknown, missing or of the wrong type. Foundation only, so it can be fuzzed and
/// tested without the server.
public enum JSONBody {
    /// Decodes `body` as `T`; an empty body reads as `{}` when `allowEmpty`.
    public static func decode<T: Decodable>(_ type: T.Type, from body: Data, allowed: Set<String>, allowEmpty: Bool = false) throws -> T {
        var data = body
        if data.isEmpty && allowEmpty { data = Data("{}".utf8) }
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw JSONBodyError(message: "the body must be a JSON object")
        }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw JSONBodyError(message: "unknown field \"\(unknown.prefix(64))\"; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.typeMismatch(let type, let context), DecodingError.valueNotFound(let type, let context) {
            throw JSONBodyError(message: "field \"\(path(context))\" must be \(describe(type))")
        } catch DecodingError.keyNotFound(let key, let context) {
            throw JSONBodyError(message: "field \"\(path(context, key))\" is required")
        } catch DecodingError.dataCorrupted(let context) where context.debugDescription.hasPrefix("unknown field") {
            // A nested object's own strict check (its text is built from clipped field names only).
            throw JSONBodyError(message: context.debugDescription)
        } catch {
            throw JSONBodyError(message: "the body is not valid for this endpoint")
        }
    }

    /// The dotted coding path of a decoding error (`scopes.1`), with `key` appended when given.
    public static func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
        (context.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    /// What a field of `type` must be, in the words of an error message.
    public static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [String].Type, is [Any].Type: "an array of strings"
        default: "of another type"
        }
    }
}
