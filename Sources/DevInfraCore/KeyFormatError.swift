/// Why a string is not a dev-infra key. Messages name the position, never the key's characters.
public enum KeyFormatError: Error, Equatable, Sendable {
    case empty
    case whitespace(position: Int)
    case nonASCII(position: Int)
    case wrongPrefix
    case wrongLength(Int)
    case missingSeparator(position: Int)
    case notBase62(position: Int)
    case checksumMismatch

    public var detail: String {
        switch self {
        case .empty: "the key is empty"
        case .whitespace(let p): "the key contains whitespace at character \(p)"
        case .nonASCII(let p): "the key contains a non-ASCII character at character \(p)"
        case .wrongPrefix: "the key does not start with \"\(APIKey.prefix)\""
        case .wrongLength(let n): "the key is \(n) characters long; a dev-infra key is \(APIKey.length)"
        case .missingSeparator(let p): "character \(p) should be \"_\" (after the 12-character key id)"
        case .notBase62(let p): "character \(p) is not a letter or digit"
        case .checksumMismatch: "the checksum does not match (the key is mistyped or truncated)"
        }
    }
}

extension KeyFormatError: DevInfraError {
    public var reason: ReasonCode { .malformedKey }
    public var message: String { "\(detail). Copy the whole key again, exactly as it was shown when it was created." }
}
