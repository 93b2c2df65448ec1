/// Checks a server address: `https`, or `http` to a loopback host only, since a key sent in clear
/// over a network is a leaked key.
public enum ServerURL {
    public static let defaultValue = "http://127.0.0.1:8080"

    /// The URL without a trailing slash, or the problem with it.
    public static func validate(_ text: String) -> Result<String, GenericError> {
        func problem(_ why: String) -> Result<String, GenericError> {
            .failure(GenericError(.invalidArgument, "invalid server URL \"\(text)\": \(why)"))
        }
        guard let schemeEnd = text.firstRange(of: "://") else {
            return problem("it needs a scheme, as in https://keys.example.com")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        let rest = text[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.contains("@") { return problem("credentials do not belong in the URL") }
        let host = Self.host(of: authority)
        guard !host.isEmpty else { return problem("it has no host") }
        if text.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" }) { return problem("it contains whitespace") }
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

    static func host(of authority: Substring) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        return String(authority.prefix { $0 != ":" }).lowercased()
    }

    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.") && host.split(separator: ".").count == 4
    }
}
