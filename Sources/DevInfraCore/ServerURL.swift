import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Checks a server address: `https`, or `http` to a loopback host only, since a key sent in clear
/// over a network is a leaked key. The URL is parsed by Foundation's `URL`, the parser the HTTP
/// client uses, so the host checked here is the host the client connects to.
public enum ServerURL {
    public static let defaultValue = "http://127.0.0.1:8080"

    /// The URL without a trailing slash, or the problem with it.
    public static func validate(_ text: String) -> Result<String, GenericError> {
        func problem(_ why: String) -> Result<String, GenericError> {
            .failure(GenericError(.invalidArgument, "invalid server URL \"\(text.prefix(200))\": \(why)"))
        }
        guard text.firstRange(of: "://") != nil else { return problem("it needs a scheme, as in https://keys.example.com") }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            return problem("it contains whitespace or control characters")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else { return problem("it is not a valid URL") }
        if url.user != nil || url.password != nil { return problem("credentials do not belong in the URL") }
        guard let host = url.host.map(unbracketed), !host.isEmpty else { return problem("it has no host") }
        if let port = url.port, !(1...65535).contains(port) { return problem("the port must be 1 to 65535") }
        if url.query != nil || url.fragment != nil { return problem("a server URL has no query (?) or fragment (#)") }
        switch scheme {
        case "https": break
        case "http":
            guard isLoopback(host) else {
                return problem("plain http is allowed only to loopback addresses (127.0.0.1, ::1, localhost); use https")
            }
        default:
            return problem("the scheme must be https (or http to a loopback address)")
        }
        var normalized = text
        while normalized.hasSuffix("/") { normalized.removeLast() }
        return .success(normalized)
    }

    static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// `localhost`, a numeric IPv4 address in 127.0.0.0/8 (four decimal parts, as `inet_pton`
    /// reads them: no `127.1`, no hex), or `::1`. Nothing that merely starts with `127.`.
    public static func isLoopback(_ host: String) -> Bool {
        let host = unbracketed(host).lowercased()
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }
}
