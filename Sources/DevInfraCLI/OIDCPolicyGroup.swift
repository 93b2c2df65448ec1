import ArgumentParser
import DevInfraClient
import DevInfraCore

/// `dev-infra oidc-policy ...`: which CI jobs' OIDC tokens the server exchanges for keys, and for
/// which integration. Admins only.
struct OIDCPolicyGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oidc-policy",
        abstract: "Manage OIDC trust policies: which CI jobs get keys of which integration (admins).",
        discussion: """
        A CI job (GitHub Actions, GitLab) runs `dev-infra login --oidc` or `dev-infra exec --oidc` and \
        gets a key that lives minutes, with no stored secret, when a policy names the token's issuer \
        and audience and all of the policy's --claim conditions hold: an exact value, or a glob where \
        * matches any run of characters (ref=refs/tags/v*).
        """,
        subcommands: [OIDCPolicyCreate.self, OIDCPolicyList.self, OIDCPolicyDelete.self]
    )
}

/// How the policy commands show one.
enum PolicyText {
    static func claims(_ policy: TrustPolicyInfo) -> String {
        policy.claims.additionalProperties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    static func lines(_ policy: TrustPolicyInfo) -> String {
        let lines = [("Name", policy.name), ("Issuer", policy.issuer), ("Audience", policy.audience), ("Claims", claims(policy)),
                     ("Integration", policy.integration), ("Scopes", policy.scopes.map(\.rawValue).joined(separator: " ")),
                     ("Lifetime", DurationText.format(policy.lifetimeSeconds)),
                     ("Created", When.day(policy.createdAt) + (policy.createdBy.map { " by \($0)" } ?? ""))]
        return lines.map { ($0.0 + ":").leftAligned(to: 13) + Printable.escaped($0.1) }.joined(separator: "\n") + "\n"
    }
}
