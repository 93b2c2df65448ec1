import Testing
@testable import DevInfraCLI

/// The exact forms `token` answers by hand, and everything else left to the parser. If `match`
/// stopped matching, `token` would still work (through the parser) but lose its speed: this is the
/// test that notices.
struct TokenFastPathMatchTests {
    @Test(arguments: [
        (["token"], TokenFastPath.Request()),
        (["auth", "token"], TokenFastPath.Request()),
        (["token", "--no-newline"], TokenFastPath.Request(noNewline: true)),
        (["token", "--profile", "ci"], TokenFastPath.Request(profile: "ci")),
        (["token", "--profile=ci", "--no-newline"], TokenFastPath.Request(profile: "ci", noNewline: true)),
        (["auth", "token", "--no-newline", "--profile", "p"], TokenFastPath.Request(profile: "p", noNewline: true)),
    ])
    func matched(_ arguments: [String], _ expected: TokenFastPath.Request) {
        #expect(TokenFastPath.match(arguments) == expected)
    }

    @Test(arguments: [
        ["status"], ["token", "--help"], ["token", "--profile"], ["token", "--profile", "--no-newline"],
        ["token", "--no-newline", "--no-newline"], ["token", "--profile", "a", "--profile", "b"], ["token", "extra"],
        ["auth"], [], ["tokens"], ["auth", "auth", "token"],
    ])
    func leftToTheParser(_ arguments: [String]) {
        #expect(TokenFastPath.match(arguments) == nil)
    }
}
