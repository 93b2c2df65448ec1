import ArgumentParser
import DevInfraClient
import DevInfraCore
import Foundation

/// How `show`, `list`, `status` and the integration commands word a key's owner, rate and quota.
enum KeyText {
    /// `web/deploy-bot (integration)` or `alice (person)`; a server that does not say is a person's.
    static func owner(_ key: KeyInfo) -> String {
        "\(key.owner) (\((key.ownerKind ?? .person).rawValue))"
    }

    /// `600/1m`, or the server's default when the key (or integration) has none of its own.
    static func rate(_ rate: RateLimitInfo?) -> String {
        guard let rate else { return "the server's default" }
        return RateSpec(limit: rate.limit, windowSeconds: rate.windowSeconds).description
    }

    /// `12 of 1000/day used, resets in 5h`, or `none`.
    static func quota(_ quota: QuotaInfo?, now: Date = Date()) -> String {
        guard let quota else { return "none" }
        var text = "\(quota.used) of \(quota.limit)/\(quota.period.rawValue) used"
        if let resets = quota.resetsAt { text += ", resets \(When.relative(resets, now: now)) (\(When.day(resets)))" }
        return text
    }
}

/// `--rate-limit 600/1m`: a malformed rate is a usage error (exit 64) before anything is asked.
extension RateSpec: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// `--quota 1000/day`.
extension QuotaSpec: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// `TEAM/NAME`, checked before asking the server.
enum IntegrationArgument {
    static func check(_ id: String, flag: String = "the integration") throws {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ValidationError("\(flag) is TEAM/NAME, as in web/deploy-bot, not \"\(id)\"")
        }
        let name = parts[1]
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }
        guard allowed, name.count <= 64, name.first.map({ $0.isLetter || $0.isNumber }) == true else {
            throw ValidationError("an integration's name is 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit, not \"\(name)\"")
        }
    }

    static func team(of id: String) -> String { String(id.split(separator: "/").first ?? "") }
}
