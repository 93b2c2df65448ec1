/// The base62 alphabet of the key format (`0-9A-Za-z`), in the order digits are valued.
public enum Base62 {
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// The value of one base62 digit, or nil for any other byte (including every non-ASCII byte).
    @inlinable
    public static func value(of byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return Int(byte - UInt8(ascii: "A")) + 10
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return Int(byte - UInt8(ascii: "a")) + 36
        default: return nil
        }
    }

    /// `value` in base62, most significant digit first, left-padded with `0` to `width` digits.
    public static func encode(_ value: UInt32, width: Int) -> String {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width)
        var rest = UInt64(value)
        var index = width - 1
        while rest > 0 && index >= 0 {
            digits[index] = alphabet[Int(rest % 62)]
            rest /= 62
            index -= 1
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// Decodes base62 digits; nil if a byte is not a digit or the value does not fit in 32 bits.
    public static func decodeUInt32<S: Sequence>(_ digits: S) -> UInt32? where S.Element == UInt8 {
        var value: UInt64 = 0
        for byte in digits {
            guard let digit = Base62.value(of: byte) else { return nil }
            value = value * 62 + UInt64(digit)
            if value > UInt64(UInt32.max) { return nil }
        }
        return UInt32(value)
    }

    /// `count` digits drawn uniformly from the alphabet by rejection sampling (no modulo bias).
    public static func random<G: RandomNumberGenerator>(count: Int, using generator: inout G) -> String {
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            let byte = UInt8.random(in: 0...255, using: &generator)
            if byte < 248 { out.append(alphabet[Int(byte % 62)]) }  // 248 = 4 * 62
        }
        return String(decoding: out, as: UTF8.self)
    }
}
