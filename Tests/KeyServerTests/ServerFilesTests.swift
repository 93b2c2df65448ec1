@preconcurrency import Crypto
import DevInfraCore
import Foundation
import Testing
@testable import KeyServer

/// The server's key file and database: private from the first byte, refused when others can read
/// them, and the key used only through HKDF subkeys.
@Suite struct ServerFilesTests {
    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test(.enabled(if: TestBackend.isSQLite, "SQLite's files")) func theKeyFileAndTheDatabaseAre0600() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            _ = try await api.createKey(adminKey, scopes: ["keys:read"])
            for suffix in ["", "-wal", "-shm", ".key"] where FileManager.default.fileExists(atPath: server.databasePath + suffix) {
                #expect(try Self.mode(server.databasePath + suffix) == 0o600, "server.sqlite\(suffix)")
            }
        }
        #expect(try Self.mode(server.databasePath + ".key") == 0o600)
    }

    @Test(.enabled(if: TestBackend.isSQLite, "SQLite's files")) func anExistingDatabaseThatOthersCanReadIsMadePrivate() async throws {
        let server = TestServer()
        _ = try await server.seed()
        chmod(server.databasePath, 0o644)
        _ = try await server.seed2()
        #expect(try Self.mode(server.databasePath) == 0o600)
    }

    @Test func aDatabaseOfAnotherUserIsRefused() throws {
        guard geteuid() == 0 else { return }  // only root can hand a file to another user
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("db-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: folder + "/x.sqlite", contents: nil, attributes: [.posixPermissions: 0o666])
        chown(folder + "/x.sqlite", 65534, 65534)
        #expect(throws: ServerSecrets.Failure.self) { try SQLiteRepository(path: folder + "/x.sqlite") }
    }

    @Test(arguments: [("127.0.0.1", "127.0.0.1"), ("2001:db8:1:2:3:4:5:6", "20010db800010002::/64"),
                      ("2001:db8:1:2:ffff::9", "20010db800010002::/64"), ("::ffff:10.1.2.3", "10.1.2.3")])
    func clientAddressesAreThrottledByHostOrSlash64(_ address: String, _ bucket: String) {
        #expect(ClientAddress.bucket(address) == bucket)
    }

    @Test func aKeyFileOthersCanReadIsRefusedWithTheFix() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/server.sqlite.key"
        _ = try ServerSecrets.loadOrCreate(at: path)
        #expect(try Self.mode(path) == 0o600)
        chmod(path, 0o640)
        do {
            _ = try ServerSecrets.loadOrCreate(at: path)
            Issue.record("a group-readable key file was loaded")
        } catch let error as ServerSecrets.Failure {
            #expect(error.message.contains("chmod 600 \(path)"))
            #expect(error.exitStatus == .localStorage)
        }
        chmod(path, 0o600)
        let target = folder + "/elsewhere.key"
        try FileManager.default.moveItem(atPath: path, toPath: target)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        #expect(throws: ServerSecrets.Failure.self) { try ServerSecrets.loadOrCreate(at: path) }
    }

    @Test func twoProcessesCreatingTheKeyAtOnceShareOne() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/server.sqlite.key"
        let made = try await withThrowingTaskGroup(of: Data.self) { group in
            for _ in 0..<8 { group.addTask { try ServerSecrets.loadOrCreate(at: path).sealingKey.withUnsafeBytes { Data($0) } } }
            return try await group.reduce(into: Set<Data>()) { $0.insert($1) }
        }
        #expect(made.count == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(leftovers == ["server.sqlite.key"], "no temp file is left behind")
    }

    @Test func theMasterKeyNeverSignsOrSealsDirectly() throws {
        let master = SymmetricKey(size: .bits256)
        let secrets = ServerSecrets(key: master)
        let bytes = { (key: SymmetricKey) in key.withUnsafeBytes { Data($0) } }
        #expect(bytes(secrets.signingKey) != bytes(master))
        #expect(bytes(secrets.sealingKey) != bytes(master))
        #expect(bytes(secrets.signingKey) != bytes(secrets.sealingKey))
        // A token signed with the master key itself is not accepted.
        let header = JWTSigner.base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = JWTSigner.base64URL(Data(#"{"sub":"1","name":"root","iat":1,"exp":99999999999,"iss":"dev-infra"}"#.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: master)
        let forged = "\(header).\(payload).\(JWTSigner.base64URL(Data(signature)))"
        #expect(throws: APIError.self) { try JWTSigner(secrets: secrets).verify(forged, now: Date()) }
        // And a sealed key opens only with the sealing subkey.
        let sealed = try secrets.seal("dinf_x")
        #expect(throws: (any Error).self) { try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: master) }
        #expect(try secrets.unseal(sealed) == "dinf_x")
    }
}

extension TestServer {
    /// Opens the repository again, as a restart does.
    /// Opens the file again, as a restarted server does: that is when its mode is checked.
    func seed2() async throws -> [User] { try await SQLiteRepository(path: databasePath).users() }
}
