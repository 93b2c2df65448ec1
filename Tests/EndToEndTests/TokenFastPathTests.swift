import Testing

/// The hand-parsed forms of `token` must behave exactly as the parsed command does.
@Suite struct TokenFastPathTests {
    let sandbox = Sandbox()

    @Test func fastAndParsedFormsAgree() throws {
        let key = "dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJa"
        #expect(try sandbox.devInfra(["login", "--offline", "--with-token", "--profile", "p1"], stdin: key).status == 0)
        let forms: [([String], String, Int32)] = [
            (["token", "--profile", "p1"], key + "\n", 0),
            (["token", "--profile=p1", "--no-newline"], key, 0),
            (["auth", "token", "--no-newline", "--profile", "p1"], key, 0),
            (["token", "--profile", "p1", "--no-newline", "--no-newline"], key, 0),
            (["token", "--profile"], "", 64),
            (["token", "--profile", "bad name"], "", 64),
            (["token"], "", 3),
        ]
        for (arguments, stdout, status) in forms {
            let result = try sandbox.devInfra(arguments)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stdout == stdout, "\(arguments)")
        }
        #expect(try sandbox.devInfra(["token", "--help"]).stdout.contains("USAGE: dev-infra token"))
    }
}
