import DevInfraCore
import Foundation

/// A compact JWS read without trusting anything in it yet: only enough to choose the issuer to ask
/// and the key to check the signature with. Every refusal is 401 `oidc_invalid_token` and its
/// detail never quotes the token (nor its algorithm, issuer or any claim): a refusal is logged and
/// audited, and a token is a bearer credential until it expires.
struct UnverifiedJWT: Sendable {
    /// GitHub's tokens are about 1.5 KiB; anything near this is not a CI job's identity token.
    static let maxLength = 16 * 1024
    /// The algorithms of the keys CI providers publish (GitHub, GitLab: RS256; others ES256).
    /// Never `none` or an HMAC, whose "key" would be public.
    static let algorithms: Set<String> = ["RS256", "ES256"]

    let algorithm: String
    let keyID: String?
    let issuer: String
    /// Every top-level claim.
    let claims: [String: OIDCJSON]

    init(_ token: String) throws {
        guard token.utf8.count <= Self.maxLength else { throw Self.invalid("the token is longer than 16 KiB") }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw Self.invalid("the token is not a JWT (three base64url parts separated by dots)")
        }
        guard let headerBytes = Self.base64URLDecoded(parts[0]), let payloadBytes = Self.base64URLDecoded(parts[1]),
              Self.base64URLDecoded(parts[2]) != nil else {
            throw Self.invalid("the token is not a JWT (a part is not base64url)")
        }
        guard let header = OIDCJSON.object(from: headerBytes) else { throw Self.invalid("the token's header is not a JSON object") }
        guard let algorithm = header["alg"]?.string, Self.algorithms.contains(algorithm) else {
            throw Self.invalid("the token is not signed with RS256 or ES256")
        }
        // RFC 7515 §4.1.11: extensions the recipient must understand; this one understands none.
        guard header["crit"] == nil else { throw Self.invalid("the token's header names critical extensions") }
        guard let claims = OIDCJSON.object(from: payloadBytes) else { throw Self.invalid("the token's payload is not a JSON object") }
        guard let issuer = claims["iss"]?.string, !issuer.isEmpty else { throw Self.invalid("the token has no issuer (iss)") }
        if let kid = header["kid"], kid.string == nil { throw Self.invalid("the token's key id (kid) is not a string") }
        self.algorithm = algorithm
        keyID = header["kid"]?.string
        self.issuer = issuer
        self.claims = claims
    }

    /// The claims this server requires, read before any key is fetched: a token without them is
    /// refused whoever signed it. Their times are checked after the signature (`checkTimes`).
    func token() throws -> OIDCToken {
        guard let subject = claims["sub"]?.string, !subject.isEmpty else { throw Self.invalid("the token has no subject (sub)") }
        guard let jti = claims["jti"]?.string, !jti.isEmpty else { throw Self.invalid("the token has no token id (jti)") }
        guard let exp = claims["exp"] else { throw Self.invalid("the token has no expiry (exp)") }
        guard let expiresAt = exp.seconds else { throw Self.invalid("the token's expiry (exp) is not a time (seconds since 1970)") }
        guard let iat = claims["iat"] else { throw Self.invalid("the token has no issue time (iat)") }
        guard let issuedAt = iat.seconds else { throw Self.invalid("the token's issue time (iat) is not a time (seconds since 1970)") }
        if let nbf = claims["nbf"], nbf.seconds == nil { throw Self.invalid("the token's not-before time (nbf) is not a time (seconds since 1970)") }
        let audiences: [String]
        switch claims["aud"] {
        case nil: audiences = []
        case .string(let audience)?: audiences = [audience]
        case .array(let values)?:
            audiences = try values.map {
                guard let audience = $0.string else { throw Self.invalid("the token's audience (aud) is not a string or a list of strings") }
                return audience
            }
        default: throw Self.invalid("the token's audience (aud) is not a string or a list of strings")
        }
        return OIDCToken(issuer: issuer, subject: subject, audiences: audiences, jti: jti,
                         expiresAt: Date(timeIntervalSince1970: expiresAt), issuedAt: Date(timeIntervalSince1970: issuedAt),
                         claims: claims.compactMapValues(\.text))
    }

    /// `exp` passed, or `nbf` or `iat` still to come, beyond `skew` seconds either way (clocks of
    /// CI runners and of this server differ a little): 401 `oidc_token_expired`.
    func checkTimes(now: Date, skew: TimeInterval) throws {
        let time = now.timeIntervalSince1970
        if let exp = claims["exp"]?.seconds, time >= exp + skew {
            throw APIError(.oidcTokenExpired, "the token expired")
        }
        if let nbf = claims["nbf"]?.seconds, time + skew < nbf {
            throw APIError(.oidcTokenExpired, "the token is not valid yet (nbf is in the future)")
        }
        if let iat = claims["iat"]?.seconds, time + skew < iat {
            throw APIError(.oidcTokenExpired, "the token was issued in the future (iat); check the clocks")
        }
    }

    static func invalid(_ detail: String) -> APIError { APIError(.oidcInvalidToken, detail) }

    /// RFC 4648 §5 without padding, strictly: any other byte, or a length no encoding has, is nil.
    static func base64URLDecoded(_ text: some Collection<UInt8>) -> Data? {
        guard text.count % 4 != 1 else { return nil }
        var standard = [UInt8]()
        standard.reserveCapacity(text.count + 3)
        for byte in text {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                standard.append(byte)
            case UInt8(ascii: "-"): standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): standard.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(standard))
    }
}
