/// `dev-infra token` is what scripts call in loops (`$(dev-infra token)`), so its few exact forms
/// skip ArgumentParser, whose reflection-driven parsing costs about a millisecond at start-up.
/// Anything else, including any unknown flag, `--help`, or a typo, goes through the parser.
enum TokenFastPath {
    struct Request: Equatable {
        var profile: String?
        var noNewline = false
    }

    /// The request when `arguments` is exactly `[auth] token [--no-newline] [--profile NAME]`.
    static func match(_ arguments: [String]) -> Request? {
        var rest = arguments[...]
        if rest.first == "auth" { rest = rest.dropFirst() }
        guard rest.first == "token" else { return nil }
        rest = rest.dropFirst()
        var request = Request()
        while let word = rest.first {
            rest = rest.dropFirst()
            switch word {
            case "--no-newline" where !request.noNewline:
                request.noNewline = true
            case "--profile" where request.profile == nil:
                guard let name = rest.first, !name.hasPrefix("-") else { return nil }
                request.profile = name
                rest = rest.dropFirst()
            case _ where word.hasPrefix("--profile=") && request.profile == nil:
                request.profile = String(word.dropFirst("--profile=".count))
            default:
                return nil
            }
        }
        return request
    }
}
