import Foundation
import Testing

/// The committed completions must be what the current commands generate; the man page is checked
/// the same way by `scripts/generate-docs.sh --check`, which needs the package plugin.
struct GeneratedDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: [("bash", "dev-infra.bash"), ("zsh", "_dev-infra"), ("fish", "dev-infra.fish")])
    func completionsAreCurrent(shell: String, file: String) throws {
        let generated = try Run.process(Run.binary, ["--generate-completion-script", shell], environment: [:])
        let committed = try String(contentsOf: Self.root.appendingPathComponent("completions/\(file)"), encoding: .utf8)
        #expect(generated.stdout == committed, "completions/\(file) is stale: run scripts/generate-docs.sh")
    }

    @Test func manPageDocumentsEveryCommandAndExitStatus() throws {
        let man = try String(contentsOf: Self.root.appendingPathComponent("man/dev-infra.1"), encoding: .utf8)
        for word in ["login", "logout", "status", "token", "exec", "DEV_INFRA_API_KEY", "credentials.yml"] {
            #expect(man.contains(word), "man page lacks \(word)")
        }
        for status in ["0", "1", "3", "4", "5", "6", "7", "8", "64"] {
            #expect(man.contains("  \(status) "), "man page lacks exit status \(status)")
        }
    }
}
