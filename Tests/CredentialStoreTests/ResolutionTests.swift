@testable import CredentialStore
import DevInfraCore
import Testing

struct ResolutionTests {
    let folder = TempFolder()
    let keyA = APIKey.generate()
    let keyB = APIKey.generate()
    let keyC = APIKey.generate()

    func store(_ extra: [String: String] = [:], keyring: InMemoryKeyring = InMemoryKeyring()) throws -> CredentialStore {
        try CredentialStore(environment: ["HOME": folder.path, "XDG_CONFIG_HOME": folder.file("config")].merging(extra) { $1 },
                            keyring: keyring)
    }

    @Test func nothingStoredIsMissingCredentials() throws {
        #expect(throws: CredentialStoreError.noCredential(profile: "default")) { try store().resolve(profile: "default") }
    }

    @Test func fileThenKeyringThenEnvironmentEachWin() throws {
        let keyring = InMemoryKeyring()
        _ = try store(keyring: keyring).save(keyA, profile: "default", apiURL: nil, preference: .file)
        #expect(try store(keyring: keyring).resolve(profile: "default").key == keyA)

        _ = try store(keyring: keyring).save(keyB, profile: "default", apiURL: nil, preference: .keyring)
        let fromKeyring = try store(keyring: keyring).resolve(profile: "default")
        #expect(fromKeyring.key == keyB)
        #expect(fromKeyring.source.name == "keyring")
        #expect(!(folder.read("config/dev-infra/credentials.yml") ?? "").contains(keyA.secret), "moving to the keyring removes the file copy")

        let env = try store(["DEV_INFRA_API_KEY": keyC.rawValue], keyring: keyring).resolve(profile: "default")
        #expect(env.key == keyC)
        #expect(env.source == .environment(variable: "DEV_INFRA_API_KEY"))
    }

    @Test func keyFileVariableIsReadAndTrimmed() throws {
        try folder.write("secret", keyA.rawValue + "\n", mode: 0o644)
        let resolution = try store(["DEV_INFRA_API_KEY_FILE": folder.file("secret")]).resolve(profile: "default")
        #expect(resolution.key == keyA)
        #expect(resolution.source == .environmentFile(path: folder.file("secret")))
    }

    @Test func malformedEnvironmentKeyIsAnErrorNotAFallback() throws {
        _ = try store().save(keyA, profile: "default", apiURL: nil, preference: .file)
        #expect(throws: CredentialStoreError.self) { try store(["DEV_INFRA_API_KEY": "dinf_short"]).resolve(profile: "default") }
        #expect(try store(["DEV_INFRA_API_KEY": ""]).resolve(profile: "default").key == keyA, "an empty variable counts as unset")
    }

    @Test func profilesDoNotLeak() throws {
        _ = try store().save(keyA, profile: "work", apiURL: "https://work.example.com", preference: .file)
        _ = try store().save(keyB, profile: "home", apiURL: nil, preference: .file)
        #expect(try store().resolve(profile: "work").key == keyA)
        #expect(try store().resolve(profile: "home").key == keyB)
        #expect(try store().server(profile: "work").url == "https://work.example.com")
        #expect(try store().server(profile: "home").origin == .builtIn)
        #expect(throws: CredentialStoreError.noCredential(profile: "default")) { try store().resolve(profile: "default") }
        #expect(try store().remove(profile: "work").count == 1)
        #expect(try store().resolve(profile: "home").key == keyB)
    }

    @Test func autoChoosesFileOnlyWhenNoKeyringExists() throws {
        let absent = InMemoryKeyring(failure: .noSessionBus("no bus"))
        let outcome = try store(keyring: absent).save(keyA, profile: "default", apiURL: nil, preference: .auto)
        #expect(outcome.storage == .file)
        #expect(outcome.notes.contains { $0.contains("no D-Bus session bus") })

        let broken = InMemoryKeyring(failure: .timedOut(seconds: 2))
        #expect {
            try store(keyring: broken).save(keyB, profile: "other", apiURL: nil, preference: .auto)
        } throws: { error in
            "\(error)".contains("--storage file") && (error as? CredentialStoreError)?.reason == .keyringTimeout
        }
        #expect(throws: CredentialStoreError.noCredential(profile: "other")) { try store().resolve(profile: "other") }
    }

    @Test func keyringFailureOnReadFallsBackToFileWithAWarning() throws {
        let keyring = InMemoryKeyring()
        _ = try store(keyring: keyring).save(keyA, profile: "default", apiURL: nil, preference: .keyring)
        keyring.failure = .timedOut(seconds: 2)
        #expect {
            try store(keyring: keyring).resolve(profile: "default")
        } throws: { error in (error as? CredentialStoreError)?.reason == .keyringTimeout }

        try folder.write("config/dev-infra/credentials.yml", "profiles:\n  default:\n    api_key: \(keyB.rawValue)\n")
        let fallback = try store(keyring: keyring).resolve(profile: "default")
        #expect(fallback.key == keyB)
        #expect(fallback.warnings.count == 1)
        #expect(fallback.warnings[0].contains("did not answer within 2 s"))
    }

    @Test func serverURLFromEnvironmentWins() throws {
        _ = try store().save(keyA, profile: "default", apiURL: "https://a.example.com/", preference: .file)
        #expect(try store().server(profile: "default") == ResolvedServer(url: "https://a.example.com", origin: .config))
        #expect(try store(["DEV_INFRA_API_URL": "https://b.example.com"]).server(profile: "default").origin == .environment)
        #expect(throws: CredentialStoreError.self) { try store(["DEV_INFRA_API_URL": "http://b.example.com"]).server(profile: "default") }
    }

    @Test func relativeXDGConfigHomeIsIgnored() {
        #expect(ConfigPaths(environment: ["HOME": "/h", "XDG_CONFIG_HOME": "rel"]).directory == "/h/.config/dev-infra")
        #expect(ConfigPaths(environment: ["HOME": "/h", "XDG_CONFIG_HOME": ""]).directory == "/h/.config/dev-infra")
        #expect(ConfigPaths(environment: ["HOME": "/h", "XDG_CONFIG_HOME": "/x"]).directory == "/x/dev-infra")
    }

    @Test(arguments: ["", "a b", "../x", String(repeating: "p", count: 65), "prof/ile", "é"])
    func badProfileNames(_ name: String) {
        #expect(throws: CredentialStoreError.invalidProfileName(name)) { try CredentialStore.profileName(flag: name, environment: [:]) }
    }

    @Test func profileFromEnvironment() throws {
        #expect(try CredentialStore.profileName(flag: nil, environment: ["DEV_INFRA_PROFILE": "ci"]) == "ci")
        #expect(try CredentialStore.profileName(flag: "x", environment: ["DEV_INFRA_PROFILE": "ci"]) == "x")
        #expect(try CredentialStore.profileName(flag: nil, environment: [:]) == "default")
    }
}
