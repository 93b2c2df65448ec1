import Foundation

/// The name a client address is throttled under. An IPv4 address is itself; an IPv6 address is
/// its /64, since one host commonly holds a whole /64 and could otherwise take a fresh bucket for
/// every request.
enum ClientAddress {
    static func bucket(_ address: String?) -> String {
        guard let address else { return "unknown" }
        guard address.contains(":") else { return address }
        var bytes = in6_addr()
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        let all = withUnsafeBytes(of: &bytes) { Array($0) }
        // An IPv4 client of a dual-stack socket (::ffff:a.b.c.d) is its IPv4 address.
        if all.prefix(10).allSatisfy({ $0 == 0 }) && all[10] == 0xFF && all[11] == 0xFF {
            return all.suffix(4).map(String.init).joined(separator: ".")
        }
        let prefix = all.prefix(8)
        return prefix.map { String(format: "%02x", $0) }.joined() + "::/64"
    }

    /// 127.0.0.0/8 or ::1 (also as ::ffff:127.x.y.z).
    static func isLoopback(_ address: String?) -> Bool {
        guard let address else { return false }
        return address == "::1" || address.hasPrefix("127.") || address.hasPrefix("::ffff:127.")
    }
}
