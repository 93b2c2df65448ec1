import Foundation

/// A CI job's identity token whose signature, issuer and times `OIDCVerifier` checked. What it may
/// be exchanged for (audience, claim conditions, replay) is the trust policies' business.
struct OIDCToken: Sendable, Equatable {
    /// `iss`, one of the trusted issuers, exactly as the token and its discovery document spell it.
    var issuer: String
    /// `sub`, e.g. `repo:acme/web:ref:refs/heads/main`.
    var subject: String
    /// `aud`: one string or a list of them in the token; empty when it names none.
    var audiences: [String]
    /// `jti`: with `issuer`, what makes a token single-use.
    var jti: String
    var expiresAt: Date
    var issuedAt: Date
    /// Every top-level claim whose value is a string, number or bool, as text (`run_id` → `"42"`,
    /// a bool → `"true"`): what policy conditions match against. Lists and objects are left out.
    var claims: [String: String]
}
