@testable import CredentialStore
import DevInfraCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct FileSafetyTests {
    let folder = TempFolder()
    let key = APIKey.generate()

    func store() throws -> CredentialStore {
        try CredentialStore(environment: ["HOME": folder.path, "XDG_CONFIG_HOME": folder.file("config")], keyring: InMemoryKeyring())
    }

    @Test func filesAre0600InA0700Folder() throws {
        _ = try store().save(key, profile: "default", apiURL: nil, preference: .file)
        #expect(folder.mode("config/dev-infra") == 0o700)
        #expect(folder.mode("config/dev-infra/credentials.yml") == 0o600)
        #expect(folder.mode("config/dev-infra/config.yml") == 0o600)
        #expect(!(folder.read("config/dev-infra/config.yml") ?? "").contains(key.secret), "config.yml never holds a secret")
    }

    /// config.yml says where a key goes: one that group or others can write is refused, as is a
    /// file of another user (root hands it over in the test).
    @Test func aConfigOthersCanWriteOrAnotherUserOwnsIsRefused() throws {
        _ = try store().save(key, profile: "default", apiURL: "https://keys.example.com", preference: .file)
        chmod(folder.file("config/dev-infra/config.yml"), 0o666)
        #expect { try store().server(profile: "default") } throws: { error in
            (error as? CredentialStoreError)?.reason == .filePermissions && "\(error)".contains("chmod 600")
        }
        chmod(folder.file("config/dev-infra/config.yml"), 0o644)
        #expect(try store().server(profile: "default").url == "https://keys.example.com", "readable by others is fine: it holds no secret")
        guard geteuid() == 0 else { return }
        chown(folder.file("config/dev-infra/config.yml"), 65534, 65534)
        #expect { try store().server(profile: "default") } throws: { error in
            (error as? CredentialStoreError)?.reason == .fileUnreadable && "\(error)".contains("another user")
        }
        chown(folder.file("config/dev-infra/config.yml"), 0, 0)
        chown(folder.file("config/dev-infra/credentials.yml"), 65534, 65534)
        #expect(throws: CredentialStoreError.self) { try store().resolve(profile: "default") }
    }

    /// What a killed writer leaves (a temp file that may hold a key) is removed by the next save,
    /// under the lock; a file that merely looks alike is not.
    @Test func tempFilesOfAKilledWriterAreRemovedByTheNextSave() throws {
        _ = try store().save(key, profile: "default", apiURL: nil, preference: .file)
        let stale = APIKey.generate()
        try folder.write("config/dev-infra/credentials.yml.tmp-Ab12Cd", "profiles:\n  x:\n    api_key: \(stale.rawValue)\n", mode: 0o600)
        try folder.write("config/dev-infra/config.yml.tmp-Zz99Yy", "profiles: {}\n", mode: 0o600)
        try folder.write("config/dev-infra/notes.tmp-Ab12Cd", "mine", mode: 0o600)
        _ = try store().save(APIKey.generate(), profile: "other", apiURL: nil, preference: .file)
        #expect(folder.read("config/dev-infra/credentials.yml.tmp-Ab12Cd") == nil)
        #expect(folder.read("config/dev-infra/config.yml.tmp-Zz99Yy") == nil)
        #expect(folder.read("config/dev-infra/notes.tmp-Ab12Cd") == "mine")
        #expect(try store().resolve(profile: "default").key == key)
    }

    /// config.yml is written first: it holds no secret, and a crash between the two writes must
    /// not leave a key without its server.
    @Test func configIsWrittenBeforeTheKey() throws {
        _ = try store().save(key, profile: "default", apiURL: "https://keys.example.com", preference: .file)
        let config = try #require(folder.modificationTime("config/dev-infra/config.yml"))
        let credentials = try #require(folder.modificationTime("config/dev-infra/credentials.yml"))
        #expect(config <= credentials)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660])
    func tooOpenCredentialsAreRefusedAndUntouched(mode: Int) throws {
        let text = "profiles:\n  default:\n    api_key: \(key.rawValue)\n"
        try folder.write("config/dev-infra/credentials.yml", text, mode: mode)
        #expect {
            try store().resolve(profile: "default")
        } throws: { error in
            let message = "\(error)"
            return message.contains("chmod 600 '\(folder.file("config/dev-infra/credentials.yml"))'") && !message.contains(key.secret)
                && (error as? CredentialStoreError)?.reason == .filePermissions
        }
        #expect(throws: CredentialStoreError.self) { try store().save(APIKey.generate(), profile: "x", apiURL: nil, preference: .file) }
        #expect(folder.read("config/dev-infra/credentials.yml") == text)
        #expect(folder.mode("config/dev-infra/credentials.yml") == mode)
    }

    @Test(arguments: [
        ("profiles:\n  default:\n    api_key: [unclosed\n", 4),
        ("profiles:\n  default:\n   api_key: a\n  bad: : :\n", 4),
        ("- just\n- a list\n", 1),
    ])
    func corruptCredentialsAreReportedWithLineAndKept(text: String, line: Int) throws {
        try folder.write("config/dev-infra/credentials.yml", text)
        #expect {
            try store().resolve(profile: "default")
        } throws: { error in
            guard case .fileCorrupt(let path, let reported, _, _) = error as? CredentialStoreError else { return false }
            return path.hasSuffix("credentials.yml") && reported == line && "\(error)".contains("credentials.yml:\(line)")
        }
        #expect(throws: CredentialStoreError.self) { try store().save(key, profile: "default", apiURL: nil, preference: .file) }
        #expect(throws: CredentialStoreError.self) { try store().remove(profile: "default") }
        #expect(folder.read("config/dev-infra/credentials.yml") == text)
    }

    @Test func corruptConfigStopsLoginAndIsKept() throws {
        let text = "profiles:\n  default:\n    storage: floppy\n"
        try folder.write("config/dev-infra/config.yml", text)
        #expect {
            try store().resolve(profile: "default")
        } throws: { error in "\(error)".contains("config.yml:3") && "\(error)".contains("keyring or file") }
        #expect(throws: CredentialStoreError.self) { try store().save(key, profile: "default", apiURL: nil, preference: .file) }
        #expect(folder.read("config/dev-infra/config.yml") == text)
        #expect(folder.read("config/dev-infra/credentials.yml") == nil)
    }

    @Test func aMalformedStoredKeyNamesTheLineNotTheKey() throws {
        // A different last checksum character (a fixed "Q" left one random key in 62 valid).
        let broken = String(key.rawValue.dropLast()) + (key.rawValue.last == "Q" ? "R" : "Q")
        try folder.write("config/dev-infra/credentials.yml", "profiles:\n  default:\n    api_key: \(broken)\n")
        #expect {
            try store().resolve(profile: "default")
        } throws: { error in "\(error)".contains("credentials.yml:3") && !"\(error)".contains(key.secret) }
    }

    @Test func unknownFieldsSurviveARewrite() throws {
        try folder.write("config/dev-infra/config.yml", "profiles:\n  default:\n    api_url: https://a.example.com\n    color: blue\n  other:\n    api_url: https://b.example.com\n")
        _ = try store().save(key, profile: "default", apiURL: nil, preference: .file)
        let text = folder.read("config/dev-infra/config.yml") ?? ""
        #expect(text.contains("color: blue"))
        #expect(text.contains("https://b.example.com"))
        #expect(try store().server(profile: "default").url == "https://a.example.com")
    }

    @Test func atomicWriteLeavesNoTempFiles() throws {
        for _ in 0..<5 { _ = try store().save(APIKey.generate(), profile: "default", apiURL: nil, preference: .file) }
        let names = try FileManagerList.names(folder.file("config/dev-infra"))
        #expect(names.sorted() == [".lock", "config.yml", "credentials.yml"])
    }
}

import Foundation
enum FileManagerList {
    static func names(_ path: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path) }
}
