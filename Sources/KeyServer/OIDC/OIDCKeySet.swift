import Foundation
import JWTKit

/// An issuer's published verification keys, by key id, ready for jwt-kit. Only keys for RS256
/// (RSA) and ES256 (EC on P-256) are kept; keys for encryption (`"use": "enc"`), of other types or
/// algorithms, or without a `kid` are skipped rather than failing the set: issuers publish more
/// than CI tokens need.
struct OIDCKeySet: Sendable {
    /// An issuer with more keys than this publishes something other than a CI token's keys.
    static let maxKeys = 100

    /// kid → the one algorithm its key verifies (`RS256` or `ES256`).
    let algorithms: [String: String]
    /// The same keys, each added under its kid. Look a kid up in `algorithms` first: a collection
    /// asked for a kid it lacks falls back to its default key.
    let collection: JWTKeyCollection

    func algorithm(for kid: String) -> String? { algorithms[kid] }

    /// One entry of a JWKS: jwt-kit's `JWK` when it could read it, and its `use`.
    private struct Entry: Decodable {
        var jwk: JWK?
        var use: String?
        enum CodingKeys: String, CodingKey { case use }
        init(from decoder: any Decoder) throws {
            jwk = try? JWK(from: decoder)
            use = try? decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .use)
        }
    }

    private struct Document: Decodable { var keys: [Entry] }

    /// The keys of a JWKS document (`{"keys": [...]}`); 503 `oidc_issuer_unreachable` when it is
    /// not one.
    static func parse(_ data: Data) async throws -> OIDCKeySet {
        guard let document = try? JSONDecoder().decode(Document.self, from: data) else {
            throw OIDCFetcher.unreachable("the issuer's key set (JWKS) is not a JSON object with keys")
        }
        let collection = JWTKeyCollection()
        var algorithms: [String: String] = [:]
        for entry in document.keys.prefix(maxKeys) {
            // The first key of a kid wins: a kid names one key.
            guard let jwk = entry.jwk, entry.use == nil || entry.use == "sig", let kid = jwk.keyIdentifier, !kid.string.isEmpty,
                  algorithms[kid.string] == nil else { continue }
            if jwk.keyType == .rsa, jwk.algorithm == nil || jwk.algorithm == .rs256 {
                guard let modulus = jwk.modulus, let exponent = jwk.exponent,
                      let key = try? Insecure.RSA.PublicKey(modulus: modulus, exponent: exponent) else { continue }
                await collection.add(rsa: key, digestAlgorithm: .sha256, kid: kid)
                algorithms[kid.string] = "RS256"
            } else if jwk.keyType == .ecdsa, jwk.algorithm == nil || jwk.algorithm == .es256, jwk.curve?.rawValue == "P-256" {
                guard let x = jwk.x, let y = jwk.y, let key = try? ES256PublicKey(parameters: (x: x, y: y)) else { continue }
                await collection.add(ecdsa: key, kid: kid)
                algorithms[kid.string] = "ES256"
            }
        }
        return OIDCKeySet(algorithms: algorithms, collection: collection)
    }
}
