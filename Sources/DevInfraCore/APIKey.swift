/// A dev-infra API key: `dinf_` + key id (12 base62) + `_` + secret (32 base62) + checksum (6 base62).
///
/// The format is an interop contract (secret scanners and other clients rely on it), so parsing is
/// strict: the only leniency is one trailing `\n` or `\r\n`, which pastes and `echo` add.
public struct APIKey: Sendable, Hashable, CustomStringConvertible {
    public static let prefix = "dinf_"
    public static let keyIDLength = 12
    public static let secretLength = 32
    public static let checksumLength = 6
    /// 5 + 12 + 1 + 32 + 6.
    public static let length = 56

    /// Public, indexed, safe to log and show.
    public let keyID: String
    /// Never logged, never shown after creation.
    public let secret: String

    public init(keyID: String, secret: String) {
        self.keyID = keyID
        self.secret = secret
    }

    /// The whole key as the user stores and sends it.
    public var rawValue: String { "\(Self.prefix)\(keyID)_\(secret)\(Self.checksum(keyID: keyID, secret: secret))" }

    /// `dinf_<id>_…`: enough to recognise a key, nothing of the secret.
    public var masked: String { "\(Self.prefix)\(keyID)_…" }

    /// Masked, so that interpolating a key into a message or log line can never leak it.
    public var description: String { masked }

    /// The base62 CRC-32 of `dinf_<key id>_<secret>`.
    public static func checksum(keyID: String, secret: String) -> String {
        Base62.encode(CRC32.checksum("\(prefix)\(keyID)_\(secret)".utf8), width: checksumLength)
    }

    /// A fresh key from the system's cryptographic random source.
    public static func generate() -> APIKey {
        var rng = SystemRandomNumberGenerator()
        return generate(using: &rng)
    }

    public static func generate<G: RandomNumberGenerator>(using rng: inout G) -> APIKey {
        APIKey(keyID: Base62.random(count: keyIDLength, using: &rng),
               secret: Base62.random(count: secretLength, using: &rng))
    }

    /// Parses and checks a key, trimming one trailing newline; the error says what is wrong, never the key.
    public static func parse(_ input: String) throws(KeyFormatError) -> APIKey {
        var bytes = Array(input.utf8)
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        return try parse(bytes: bytes)
    }

    private static func parse(bytes: [UInt8]) throws(KeyFormatError) -> APIKey {
        if bytes.isEmpty { throw .empty }
        if let index = bytes.firstIndex(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw .whitespace(position: index + 1)
        }
        if let index = bytes.firstIndex(where: { $0 >= 0x80 }) { throw .nonASCII(position: index + 1) }
        guard bytes.starts(with: prefix.utf8) else { throw .wrongPrefix }
        guard bytes.count == length else { throw .wrongLength(bytes.count) }
        let separator = prefix.utf8.count + keyIDLength
        guard bytes[separator] == UInt8(ascii: "_") else { throw .missingSeparator(position: separator + 1) }
        for (index, byte) in bytes.enumerated() where index >= prefix.utf8.count && index != separator {
            if Base62.value(of: byte) == nil { throw .notBase62(position: index + 1) }
        }
        let keyID = String(decoding: bytes[prefix.utf8.count..<separator], as: UTF8.self)
        let secretStart = separator + 1
        let secret = String(decoding: bytes[secretStart..<(secretStart + secretLength)], as: UTF8.self)
        let given = bytes[(secretStart + secretLength)...]
        guard Base62.decodeUInt32(given) != nil,
              String(decoding: given, as: UTF8.self) == checksum(keyID: keyID, secret: secret)
        else { throw .checksumMismatch }
        return APIKey(keyID: keyID, secret: secret)
    }

    /// True when `text` is shaped like a key id (12 base62 characters).
    public static func isKeyID(_ text: String) -> Bool {
        text.utf8.count == keyIDLength && text.utf8.allSatisfy { Base62.value(of: $0) != nil }
    }
}
