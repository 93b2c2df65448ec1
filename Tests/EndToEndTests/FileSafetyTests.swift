import DevInfraCore
import Foundation
import Testing

/// Bad files are reported with their path and line, and left byte-for-byte as they were.
@Suite struct FileSafetyEndToEndTests {
    let sandbox = Sandbox()
    let key = APIKey.generate()

    @Test func corruptConfigIsReportedAndKept() throws {
        let text = "profiles:\n  default:\n    api_url: [https://a\n"
        try sandbox.write(sandbox.configFile, text, mode: 0o600)
        for arguments in [["token"], ["status", "--offline"], ["logout"]] {
            let result = try sandbox.devInfra(arguments)
            #expect(result.status == 8, "\(arguments)")
            #expect(result.stderr.contains("\(sandbox.configFile):"))
            #expect(result.stderr.contains("[file_corrupt]"))
        }
        let login = try sandbox.devInfra(["login", "--offline", "--with-token"], stdin: key.rawValue)
        #expect(login.status == 8)
        #expect(sandbox.read(sandbox.configFile) == text)
        #expect(sandbox.read(sandbox.credentialsFile) == nil)
    }

    @Test func corruptCredentialsAreReportedWithTheirLineAndKept() throws {
        let text = "profiles:\n  default:\n    api_key: \(key.rawValue)\n  other: {\n"
        try sandbox.write(sandbox.credentialsFile, text, mode: 0o600)
        let result = try sandbox.devInfra(["token"])
        #expect(result.status == 8)
        #expect(result.stderr.contains("\(sandbox.credentialsFile):5"))
        #expect(!result.stderr.contains(key.secret))
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--profile", "x"], stdin: APIKey.generate().rawValue).status == 8)
        #expect(sandbox.read(sandbox.credentialsFile) == text)
    }

    @Test func openCredentialsAreRefusedWithTheChmodThatFixesThem() throws {
        let text = "profiles:\n  default:\n    api_key: \(key.rawValue)\n"
        try sandbox.write(sandbox.credentialsFile, text, mode: 0o644)
        let result = try sandbox.devInfra(["token"])
        #expect(result.status == 8)
        #expect(result.stderr.contains("chmod 600 '\(sandbox.credentialsFile)'"))
        #expect(result.stderr.contains("[file_permissions]"))
        #expect(result.stdout.isEmpty)
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--profile", "x"], stdin: APIKey.generate().rawValue).status == 8)
        #expect(sandbox.read(sandbox.credentialsFile) == text)
        #expect(sandbox.mode(sandbox.credentialsFile) == 0o644)

        _ = try Run.process("/bin/chmod", ["600", sandbox.credentialsFile], environment: [:])
        #expect(try sandbox.devInfra(["token"]).stdout == key.rawValue + "\n")
    }

    @Test func twentyConcurrentLoginsLeaveOneWholeFile() throws {
        let keys = (0..<20).map { _ in APIKey.generate() }
        // All twenty are started before any is waited for.
        let running = try keys.enumerated().map { index, key in
            try Run.start(Run.binary, ["login", "--offline", "--with-token", "--storage", "file", "--profile", "p\(index)"],
                          environment: sandbox.environment, stdin: key.rawValue)
        }
        for (index, process) in running.enumerated() {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "login p\(index) failed")
        }
        let text = sandbox.read(sandbox.credentialsFile) ?? ""
        for (index, key) in keys.enumerated() {
            #expect(text.contains(key.rawValue), "profile p\(index) lost")
            #expect(try sandbox.devInfra(["token", "--profile", "p\(index)"]).stdout == key.rawValue + "\n")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: sandbox.configFolder).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }
}
