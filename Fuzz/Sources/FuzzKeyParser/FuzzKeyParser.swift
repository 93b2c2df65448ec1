import DevInfraCore

/// `APIKey.parse` on arbitrary bytes read as UTF-8 (invalid sequences repaired, as `Posix.read`
/// and the environment do). A parse that succeeds must describe the input exactly.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let input = String(decoding: bytes, as: UTF8.self)
    let key: APIKey
    do {
        key = try APIKey.parse(input)
    } catch {
        precondition(!error.detail.isEmpty && !error.message.isEmpty, "a refusal says why")
        return 0
    }
    // The input minus the one trailing newline parse forgives is the key, byte for byte.
    var trimmed = Array(input.utf8)
    if trimmed.last == UInt8(ascii: "\n") {
        trimmed.removeLast()
        if trimmed.last == UInt8(ascii: "\r") { trimmed.removeLast() }
    }
    let raw = key.rawValue
    precondition(Array(raw.utf8) == trimmed, "rawValue round-trips the parsed text")
    precondition(raw.utf8.count == APIKey.length, "a key is \(APIKey.length) bytes")
    precondition(raw.hasPrefix(APIKey.prefix))
    precondition(APIKey.isKeyID(key.keyID), "the key id is 12 base62 characters")
    precondition(key.secret.utf8.count == APIKey.secretLength && key.secret.utf8.allSatisfy { Base62.value(of: $0) != nil })
    let checksum = APIKey.checksum(keyID: key.keyID, secret: key.secret)
    precondition(raw.hasSuffix(checksum), "the checksum verifies")
    precondition(Base62.decodeUInt32(checksum.utf8) == CRC32.checksum("\(APIKey.prefix)\(key.keyID)_\(key.secret)".utf8))
    precondition((try? APIKey.parse(raw)) == key, "parsing rawValue gives the same key")
    precondition((try? APIKey.parse(raw + "\r\n")) == key, "one trailing CRLF is forgiven")
    precondition((try? APIKey.parse(raw + "\n\n")) == nil, "only one trailing newline is forgiven")
    precondition(!key.description.contains(key.secret) && !key.masked.contains(key.secret), "the secret is never shown")
    return 0
}
