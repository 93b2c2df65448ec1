import DevInfraCore
import Foundation
import Testing

/// The real binary, file storage, no session bus: what a headless machine or container sees.
@Suite struct FileStorageTests {
    let sandbox = Sandbox()
    let key = APIKey.generate()

    @Test func loginTokenStatusLogoutRoundTrip() throws {
        let login = try sandbox.devInfra(["login", "--offline", "--with-token", "--storage", "file"], stdin: key.rawValue + "\n")
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout.isEmpty)
        #expect(sandbox.mode(sandbox.credentialsFile) == 0o600)
        #expect(sandbox.mode(sandbox.configFolder) == 0o700)

        let token = try sandbox.devInfra(["token"])
        #expect(token.status == 0)
        #expect(token.stdout == key.rawValue + "\n")
        #expect(token.stderr.isEmpty)
        #expect(try sandbox.devInfra(["token", "--no-newline"]).stdout == key.rawValue)

        let status = try sandbox.devInfra(["status", "--offline"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("dinf_\(key.keyID)_…"))
        #expect(status.stdout.contains(sandbox.credentialsFile))
        #expect(status.stdout.contains("mode 0600"))
        #expect(!status.stdout.contains(key.secret))

        let json = try sandbox.devInfra(["status", "--offline", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["source"] as? String == "file")
        #expect(object?["key_id"] as? String == key.keyID)
        #expect(object?["mode"] as? String == "0600")

        let logout = try sandbox.devInfra(["logout"])
        #expect(logout.status == 0)
        #expect(!(sandbox.read(sandbox.credentialsFile) ?? "").contains(key.secret))
        let after = try sandbox.devInfra(["status", "--offline"])
        #expect(after.status == 3)
        #expect(after.stderr.contains("[missing_credentials]"))
        #expect(try sandbox.devInfra(["token"]).status == 3)
    }

    @Test func authAliasesAreTheSameCommands() throws {
        #expect(try sandbox.devInfra(["auth", "login", "--offline", "--with-token"], stdin: key.rawValue).status == 0)
        #expect(try sandbox.devInfra(["auth", "token"]).stdout == key.rawValue + "\n")
        #expect(try sandbox.devInfra(["auth", "status", "--offline"]).status == 0)
        #expect(try sandbox.devInfra(["auth", "logout"]).status == 0)
        #expect(try sandbox.devInfra(["auth", "status", "--offline"]).status == 3)
    }

    @Test func environmentBeatsTheFileAndLoginWarnsAboutIt() throws {
        let other = APIKey.generate()
        let login = try sandbox.devInfra(["login", "--offline", "--with-token"], stdin: key.rawValue, extra: ["DEV_INFRA_API_KEY": other.rawValue])
        #expect(login.status == 0)
        #expect(login.stderr.contains("DEV_INFRA_API_KEY is set and will keep winning"))
        #expect(try sandbox.devInfra(["token"], extra: ["DEV_INFRA_API_KEY": other.rawValue]).stdout == other.rawValue + "\n")
        let status = try sandbox.devInfra(["status", "--offline", "--json"], extra: ["DEV_INFRA_API_KEY": other.rawValue])
        #expect(status.stdout.contains("\"source\" : \"env\""))
        #expect(try sandbox.devInfra(["token"]).stdout == key.rawValue + "\n")

        try sandbox.write(sandbox.root + "/mounted-secret", other.rawValue + "\n", mode: 0o444)
        let fromFile = try sandbox.devInfra(["token"], extra: ["DEV_INFRA_API_KEY_FILE": sandbox.root + "/mounted-secret"])
        #expect(fromFile.stdout == other.rawValue + "\n")
    }

    @Test func aMalformedEnvironmentKeyIsRejectedWithoutEchoingIt() throws {
        let broken = String(key.rawValue.dropLast(2))
        let result = try sandbox.devInfra(["token"], extra: ["DEV_INFRA_API_KEY": broken])
        #expect(result.status == 3)
        #expect(result.stderr.contains("[malformed_key]"))
        #expect(result.stderr.contains("DEV_INFRA_API_KEY"))
        #expect(!result.stderr.contains(key.secret.prefix(20)))
        #expect(result.stdout.isEmpty)
    }

    @Test func profilesDoNotLeakIntoEachOther() throws {
        let work = APIKey.generate()
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--profile", "work", "--api-url", "https://keys.example.com"], stdin: work.rawValue).status == 0)
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token"], stdin: key.rawValue).status == 0)
        #expect(try sandbox.devInfra(["token", "--profile", "work"]).stdout == work.rawValue + "\n")
        #expect(try sandbox.devInfra(["token"], extra: ["DEV_INFRA_PROFILE": "work"]).stdout == work.rawValue + "\n")
        #expect(try sandbox.devInfra(["token"]).stdout == key.rawValue + "\n")
        #expect(try sandbox.devInfra(["status", "--offline", "--profile", "work"]).stdout.contains("https://keys.example.com"))
        #expect(try sandbox.devInfra(["token", "--profile", "home"]).status == 3)
        #expect(try sandbox.devInfra(["logout", "--profile", "work"]).status == 0)
        #expect(try sandbox.devInfra(["token", "--profile", "work"]).status == 3)
        #expect(try sandbox.devInfra(["token"]).stdout == key.rawValue + "\n")
        #expect(try sandbox.devInfra(["logout", "--all"]).status == 0)
        #expect(try sandbox.devInfra(["token"]).status == 3)
    }

    @Test func badKeysOnStdinStoreNothing() throws {
        for input in ["", "ghp_notours", String(key.rawValue.dropLast()), key.rawValue + " trailing"] {
            let result = try sandbox.devInfra(["login", "--offline", "--with-token"], stdin: input)
            #expect(result.status == 3, "input \(input.count) chars")
            #expect(result.stderr.contains("[malformed_key]"))
        }
        #expect(sandbox.read(sandbox.credentialsFile) == nil)
    }

    @Test func loginWithoutATerminalSaysHowToLogInNonInteractively() throws {
        let result = try sandbox.devInfra(["login"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("--with-token"))
    }

    @Test func insecureServerURLIsRefusedAndNothingStored() throws {
        let result = try sandbox.devInfra(["login", "--offline", "--with-token", "--api-url", "http://keys.example.com"], stdin: key.rawValue)
        #expect(result.status == 64)
        #expect(result.stderr.contains("use https"))
        #expect(sandbox.read(sandbox.credentialsFile) == nil)
    }

    @Test func versionAndUsage() throws {
        let version = try sandbox.devInfra(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == DevInfraVersion.current)
        #expect(try sandbox.devInfra(["token", "--no-such-flag"]).status == 64)
        #expect(try sandbox.devInfra(["login", "--storage", "floppy"]).status == 64)
    }
}
