@preconcurrency import Crypto
import DevInfraCore
import Foundation

/// The server's own 256-bit key: signs JWTs and seals the raw keys kept for idempotent retries.
/// Kept in a 0600 file beside the database, so every replica on one database shares it.
public struct ServerSecrets: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// Reads `path`, creating it with a fresh random key on first use.
    public static func loadOrCreate(at path: String) throws -> ServerSecrets {
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw APIError(.internalServerError, "server_key", "\(path) is not a 32-byte key") }
            return ServerSecrets(key: SymmetricKey(data: data))
        }
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw APIError(.internalServerError, "server_key", "cannot write \(path)")
        }
        return ServerSecrets(key: key)
    }

    static func hash(secret: String) -> Data { Data(SHA256.hash(data: Data(secret.utf8))) }

    /// Constant-time: the time taken says nothing about how much of the hash matched.
    static func matches(secret: String, hash: Data) -> Bool {
        let computed = Self.hash(secret: secret)
        guard computed.count == hash.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(computed, hash) { difference |= a ^ b }
        return difference == 0
    }

    func seal(_ text: String) throws -> Data { try AES.GCM.seal(Data(text.utf8), using: key).combined! }

    func unseal(_ data: Data) throws -> String {
        String(decoding: try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key), as: UTF8.self)
    }
}

/// HS256 JSON Web Tokens for signed-in humans: short-lived, and checked by signature and expiry.
struct JWTSigner: Sendable {
    let secrets: ServerSecrets
    static let lifetime: TimeInterval = 15 * 60

    struct Claims: Codable {
        var sub: String
        var name: String
        var iat: Int
        var exp: Int
        var iss: String
    }

    func sign(user: User, now: Date) throws -> String {
        let header = Self.base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let claims = Claims(sub: String(user.id), name: user.name, iat: Int(now.timeIntervalSince1970),
                            exp: Int(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970), iss: "dev-infra")
        let payload = Self.base64URL(try JSONEncoder().encode(claims))
        let signature = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: secrets.key)
        return "\(header).\(payload).\(Self.base64URL(Data(signature)))"
    }

    /// The claims of a valid, unexpired token; an `invalid_token` error otherwise.
    func verify(_ token: String, now: Date) throws(APIError) -> Claims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.data(base64URL: parts[0]), let payload = Self.data(base64URL: parts[1]),
              let signature = Self.data(base64URL: parts[2]) else {
            throw APIError(.invalidToken, "the bearer token is neither a dev-infra key nor a well-formed JWT")
        }
        guard String(decoding: header, as: UTF8.self).contains(#""alg":"HS256""#),
              HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: secrets.key),
              let claims = try? JSONDecoder().decode(Claims.self, from: payload) else {
            throw APIError(.invalidToken, "the token's signature is not valid")
        }
        guard TimeInterval(claims.exp) > now.timeIntervalSince1970 else {
            throw APIError(.invalidToken, "the token has expired; sign in again")
        }
        return claims
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(base64URL text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
