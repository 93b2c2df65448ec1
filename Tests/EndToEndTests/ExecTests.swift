import DevInfraCore
import Testing

@Suite struct ExecTests {
    let sandbox = Sandbox()
    let key = APIKey.generate()

    @Test func runsTheCommandWithTheKeyAndPassesItsStatusThrough() throws {
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--api-url", "https://keys.example.com"], stdin: key.rawValue).status == 0)
        let result = try sandbox.devInfra(["exec", "--", "/bin/sh", "-c", "echo \"$DEV_INFRA_API_KEY $DEV_INFRA_API_URL\"; exit 42"])
        #expect(result.status == 42)
        #expect(result.stdout == "\(key.rawValue) https://keys.example.com\n")
        let noDashes = try sandbox.devInfra(["exec", "/bin/sh", "-c", "exit 0"])
        #expect(noDashes.status == 0)
    }

    @Test func aMissingCommandIs127AndNoKeyIs3() throws {
        #expect(try sandbox.devInfra(["exec", "--", "/bin/true"]).status == 3)
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token"], stdin: key.rawValue).status == 0)
        let missing = try sandbox.devInfra(["exec", "--", "no-such-command-here"])
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("command not found: no-such-command-here"))
        #expect(try sandbox.devInfra(["exec"]).status == 64)
    }
}
