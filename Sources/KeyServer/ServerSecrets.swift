@preconcurrency import Crypto
import DevInfraCore
import Foundation

/// The server's own 256-bit master key, kept in a 0600 file. It is never used directly: HKDF
/// derives one subkey for signing JWTs and another for sealing the raw keys kept for idempotent
/// retries, so neither use can be turned against the other.
public struct ServerSecrets: Sendable {
    let signingKey: SymmetricKey
    let sealingKey: SymmetricKey
    /// For MACs of short codes stored in the database (device user codes).
    let codeKey: SymmetricKey

    public init(key: SymmetricKey) {
        signingKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("dev-infra jwt-hs256 v1".utf8), outputByteCount: 32)
        sealingKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("dev-infra idempotency-seal v1".utf8), outputByteCount: 32)
        codeKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("dev-infra code-mac v1".utf8), outputByteCount: 32)
    }

    public struct Failure: DevInfraError {
        public var reason: ReasonCode { .filePermissions }
        public var message: String
    }

    /// Reads `path` (refusing a file others can read), creating it with a fresh random key,
    /// 0600 from the first byte, on first use.
    public static func loadOrCreate(at path: String) throws -> ServerSecrets {
        do {
            if let data = try SecretFile.read(path) { return try ServerSecrets(keyFile: data, path: path) }
            let folder = (path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let key = SymmetricKey(size: .bits256)
            if try SecretFile.create(path, contents: key.withUnsafeBytes { Data($0) }) { return ServerSecrets(key: key) }
            // Another process created it between our read and our create: use theirs.
            guard let data = try SecretFile.read(path) else { throw Failure(message: "\(path) vanished while it was created") }
            return try ServerSecrets(keyFile: data, path: path)
        } catch let failure as SecretFile.Failure {
            throw Failure(message: failure.description)
        }
    }

    init(keyFile data: Data, path: String) throws {
        guard data.count == 32 else { throw Failure(message: "\(path) is not a 32-byte key (it has \(data.count) bytes)") }
        self.init(key: SymmetricKey(data: data))
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

    func mac(_ text: String) -> Data { Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: codeKey)) }

    func seal(_ text: String) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(text.utf8), using: sealingKey).combined else {
            throw APIError(.internalError, "sealing a key failed")
        }
        return combined
    }

    func unseal(_ data: Data) throws -> String {
        String(decoding: try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: sealingKey), as: UTF8.self)
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
        let claims = Claims(sub: String(user.id), name: user.name, iat: Int(now.epochSeconds),
                            exp: Int(now.addingTimeInterval(Self.lifetime).epochSeconds), iss: "dev-infra")
        let payload = Self.base64URL(try JSONEncoder().encode(claims))
        let signature = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: secrets.signingKey)
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
              HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: secrets.signingKey),
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

extension ServerSecrets {
    /// A fresh key that dies with the process: for `memory:` stores, whose data does too.
    public static func ephemeral() -> ServerSecrets { ServerSecrets(key: SymmetricKey(size: .bits256)) }

    /// The server key from configuration: `DEV_INFRA_SERVER_SECRET` (32 bytes, base64), or a
    /// file (`--secret-file`, `DEV_INFRA_SERVER_SECRET_FILE`), or else the file beside an SQLite
    /// database, created on first use. Replicas on one PostgreSQL must share one key (their JWTs
    /// and sealed idempotency answers are read by each other), so PostgreSQL has no default.
    public static func load(file: String?, environment: [String: String], defaultPath: String?) throws -> ServerSecrets {
        if environment["DEV_INFRA_SERVER_SECRET"] != nil, file != nil || environment["DEV_INFRA_SERVER_SECRET_FILE"] != nil {
            // Which one would win is a guess an operator should not have to make: replicas that
            // disagree on the key cannot read each other's tokens.
            throw Failure(message: "the server key is given twice: DEV_INFRA_SERVER_SECRET and a secret file; keep one")
        }
        if let encoded = environment["DEV_INFRA_SERVER_SECRET"] {
            guard let data = Data(base64Encoded: encoded.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
                throw Failure(message: "DEV_INFRA_SERVER_SECRET must be 32 bytes in base64 (make one with: head -c 32 /dev/urandom | base64)")
            }
            return ServerSecrets(key: SymmetricKey(data: data))
        }
        if let path = file ?? environment["DEV_INFRA_SERVER_SECRET_FILE"] {
            do {
                guard let data = try SecretFile.read(path) else {
                    throw Failure(message: "no secret file at \(path) (make one with: (umask 077; head -c 32 /dev/urandom > \(path)))")
                }
                return try ServerSecrets(keyFile: data, path: path)
            } catch let failure as SecretFile.Failure {
                throw Failure(message: failure.description)
            }
        }
        if defaultPath == StorageBackend.ephemeralSecrets { return .ephemeral() }
        guard let defaultPath else {
            throw Failure(message: "this database needs the server key from --secret-file or DEV_INFRA_SERVER_SECRET: every replica must share one")
        }
        return try loadOrCreate(at: defaultPath)
    }
}
