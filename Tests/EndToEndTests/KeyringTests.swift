import DevInfraCore
import Foundation
import Testing

/// The real binary against a real Secret Service (gnome-keyring on a private session bus), and
/// against buses where the Secret Service is missing or hangs.
@Suite struct KeyringTests {
    let sandbox = Sandbox()
    let key = APIKey.generate()

    @Test func loginTokenStatusLogoutInTheKeyring() throws {
        let bus = try SessionBus(home: sandbox.environment["HOME"]!, service: .gnomeKeyring)
        sandbox.environment.merge(bus.environment) { $1 }

        let login = try sandbox.devInfra(["login", "--offline", "--with-token", "--api-url", "https://keys.example.com"], stdin: key.rawValue)
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stderr.contains("stored the key in the Secret Service keyring"))
        #expect(sandbox.read(sandbox.configFile)?.contains("storage: keyring") == true)
        #expect(!(sandbox.read(sandbox.credentialsFile) ?? "").contains(key.secret))
        #expect(!(sandbox.read(sandbox.configFile) ?? "").contains(key.secret))

        let lookup = try bus.secretTool(["lookup", "application", "dev-infra", "profile", "default"])
        #expect(lookup.stdout.trimmingCharacters(in: .newlines) == key.rawValue)
        let attributes = try bus.secretTool(["search", "--all", "application", "dev-infra"])
        #expect(attributes.stdout.contains("attribute.server = https://keys.example.com") || attributes.stderr.contains("attribute.server = https://keys.example.com"))

        #expect(try sandbox.devInfra(["token"]).stdout == key.rawValue + "\n")
        let status = try sandbox.devInfra(["status", "--offline"])
        #expect(status.stdout.contains("Secret Service keyring"))
        #expect(status.stdout.contains("Storage:  keyring"))

        let other = APIKey.generate()
        let env = try sandbox.devInfra(["token"], extra: ["DEV_INFRA_API_KEY": other.rawValue])
        #expect(env.stdout == other.rawValue + "\n")

        #expect(try sandbox.devInfra(["logout"]).status == 0)
        let gone = try bus.secretTool(["lookup", "application", "dev-infra", "profile", "default"])
        #expect(gone.stdout.isEmpty)
        #expect(try sandbox.devInfra(["token"]).status == 3)
    }

    /// `token` skips libsecret and its Diffie-Hellman session (see `SecretServiceSession`): a plain
    /// session, one search with the schema's attributes, one `GetSecret`.
    @Test func tokenReadsTheKeyringInThreeCallsOverAPlainSession() throws {
        let bus = try SessionBus(home: sandbox.environment["HOME"]!, service: .gnomeKeyring)
        sandbox.environment.merge(bus.environment) { $1 }
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--storage", "keyring"], stdin: key.rawValue).status == 0)
        var token: RunResult?
        let calls = try bus.secretServiceCalls { token = try sandbox.devInfra(["token"]) }
        #expect(token?.stdout == key.rawValue + "\n")
        let members = calls.split(separator: "\n").filter { $0.hasPrefix("method call") }.compactMap { line in
            line.range(of: "member=").map { String(line[$0.upperBound...]) }
        }
        #expect(members == ["OpenSession", "SearchItems", "GetSecret"], "\(calls)")
        #expect(calls.contains("string \"plain\""))
        #expect(calls.contains("string \"io.dev-infra.APIKey\""), "the search is namespaced by the schema")
    }

    /// A Secret Service that refuses plain sessions gets libsecret, which negotiates its own
    /// (here, refused as well, so the failure is reported rather than read as "no key").
    @Test func aServiceThatRefusesPlainSessionsIsHandedToLibsecret() throws {
        let bus = try SessionBus(home: sandbox.environment["HOME"]!, service: .refusingSessions)
        try sandbox.write(sandbox.configFile, "profiles:\n  default:\n    storage: keyring\n", mode: 0o600)
        sandbox.environment.merge(bus.environment) { $1 }
        var token: RunResult?
        let calls = try bus.secretServiceCalls { token = try sandbox.devInfra(["token"]) }
        #expect(token?.status == 8, "\(token?.stderr ?? "")")
        #expect(token?.stderr.contains("[keyring_failed]") == true, "\(token?.stderr ?? "")")
        #expect(token?.stderr.contains("not supported") == true)
        let plain = try #require(calls.range(of: "string \"plain\""), "\(calls)")
        let libsecret = try #require(calls.range(of: "string \"dh-ietf1024-sha256-aes128-cbc-pkcs7\""), "libsecret never tried: \(calls)")
        #expect(plain.upperBound < libsecret.lowerBound)
    }

    @Test func aLockedKeyringIsReportedAsLockedNotAsAMissingKey() throws {
        let bus = try SessionBus(home: sandbox.environment["HOME"]!, service: .gnomeKeyring)
        sandbox.environment.merge(bus.environment) { $1 }
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--storage", "keyring"], stdin: key.rawValue).status == 0)
        try bus.lockLoginCollection()
        let token = try sandbox.devInfra(["token"])
        #expect(token.status == 8, "\(token.stderr)")
        #expect(token.stderr.contains("[keyring_locked]"))
        #expect(token.stderr.contains("gnome-keyring-daemon --unlock"))
        #expect(token.stdout.isEmpty)
        #expect(!token.stderr.contains(key.secret))
        #expect(token.seconds < 2)
    }

    @Test func switchingStorageMovesTheKeyAndLeavesNoCopy() throws {
        let bus = try SessionBus(home: sandbox.environment["HOME"]!, service: .gnomeKeyring)
        sandbox.environment.merge(bus.environment) { $1 }
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--storage", "file"], stdin: key.rawValue).status == 0)
        #expect(sandbox.read(sandbox.credentialsFile)?.contains(key.rawValue) == true)
        let next = APIKey.generate()
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--storage", "keyring"], stdin: next.rawValue).status == 0)
        #expect(!(sandbox.read(sandbox.credentialsFile) ?? "").contains(key.rawValue))
        #expect(try sandbox.devInfra(["token"]).stdout == next.rawValue + "\n")
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--storage", "file"], stdin: key.rawValue).status == 0)
        #expect(try bus.secretTool(["lookup", "application", "dev-infra", "profile", "default"]).stdout.isEmpty)
        #expect(try sandbox.devInfra(["token"]).stdout == key.rawValue + "\n")
    }

    @Test func noSessionBusMeansFileStorageWithinTheTimeout() throws {
        let login = try sandbox.devInfra(["login", "--offline", "--with-token"], stdin: key.rawValue)
        #expect(login.status == 0)
        #expect(login.stderr.contains("no keyring here"))
        #expect(login.stderr.contains(sandbox.credentialsFile))
        #expect(login.seconds < 2)
        #expect(try sandbox.devInfra(["token"]).stdout == key.rawValue + "\n")
        let explicit = try sandbox.devInfra(["login", "--offline", "--with-token", "--storage", "keyring"], stdin: key.rawValue)
        #expect(explicit.status == 8)
        #expect(explicit.stderr.contains("[keyring_unavailable]"))
    }

    @Test func aBusWithoutASecretServiceMeansFileStorage() throws {
        let bus = try SessionBus(home: sandbox.environment["HOME"]!, service: .none)
        sandbox.environment.merge(bus.environment) { $1 }
        let login = try sandbox.devInfra(["login", "--offline", "--with-token"], stdin: key.rawValue)
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stderr.contains("no Secret Service"))
        #expect(login.seconds < 2)
        #expect(try sandbox.devInfra(["token"]).stdout == key.rawValue + "\n")
    }

    @Test func aHangingSecretServiceFailsWithinTheBoundAndNamesTheWayOut() throws {
        let bus = try SessionBus(home: sandbox.environment["HOME"]!, service: .hanging)
        sandbox.environment.merge(bus.environment) { $1 }
        let login = try sandbox.devInfra(["login", "--offline", "--with-token"], stdin: key.rawValue, extra: ["DEV_INFRA_KEYRING_TIMEOUT": "1"])
        #expect(login.status == 8)
        #expect(login.stderr.contains("[keyring_timeout]"))
        #expect(login.stderr.contains("--storage file"))
        #expect(login.seconds < 5, "the 25 s D-Bus timeout leaked through: \(login.seconds) s")
        #expect(sandbox.read(sandbox.credentialsFile) == nil, "never a silent downgrade")

        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--storage", "file"], stdin: key.rawValue).status == 0)
        #expect(try sandbox.devInfra(["token"]).stdout == key.rawValue + "\n")
    }

    @Test func aKeyringThatStopsAnsweringIsReportedOnRead() throws {
        let bus = try SessionBus(home: sandbox.environment["HOME"]!, service: .hanging)
        try sandbox.write(sandbox.configFile, "profiles:\n  default:\n    storage: keyring\n", mode: 0o600)
        sandbox.environment.merge(bus.environment) { $1 }
        let token = try sandbox.devInfra(["token"], extra: ["DEV_INFRA_KEYRING_TIMEOUT": "1"])
        #expect(token.status == 8)
        #expect(token.stderr.contains("[keyring_timeout]"))
        #expect(token.seconds < 5)
        #expect(token.stdout.isEmpty)
    }
}
