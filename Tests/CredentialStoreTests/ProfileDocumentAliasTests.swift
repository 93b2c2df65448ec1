@testable import CredentialStore
import Testing

/// Regressions found by Fuzz/FuzzCredentialFiles: YAML aliases make Yams do work exponential in the
/// nesting of anchors, so a 600-byte config.yml or credentials.yml hung every command that read it
/// (Yams hashes alias-expanded mapping keys to find duplicates) or rewrote it (`render` writes every
/// expanded copy out). Aliases are now refused before Yams sees the text.
struct ProfileDocumentAliasTests {
    let path = "/home/me/.config/dev-infra/credentials.yml"

    /// The timeout input of FuzzCredentialFiles: nested anchors in an unknown field of a profile,
    /// which `login`/`logout` keep on rewrite (10^9 scalars once expanded).
    static let laughsInAValue = """
        profiles:
          default:
            a0: &a0 [x, x, x, x, x, x, x, x, x, x]
            a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
            a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
            a3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
            a4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
            a5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
            a6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
            a7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
            a8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]

        """

    /// The same anchors used as mapping keys: parsing alone (every command) hung in Yams' duplicate-key check.
    static let laughsAsKeys = """
        x:
          a0: &a0 [x, x, x, x, x, x, x, x, x, x]
          a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
          a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
          a3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
          a4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
          a5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
          a6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
          a7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
          a8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]
        y:
          *a8 : 1
          *a7 : 2

        """

    /// The line and column of the refusal, or nil when `text` is not refused as holding an alias.
    func aliasRefusal(_ text: String) -> (line: Int?, column: Int?)? {
        do {
            _ = try ProfileDocument(path: path, text: text)
            return nil
        } catch {
            guard case .fileCorrupt(let errorPath, let line, let column, let problem) = error,
                  errorPath == path, problem.contains("alias") else { return nil }
            return (line, column)
        }
    }

    @Test(.timeLimit(.minutes(1))) func nestedAliasesInAValueAreRefusedAtTheFirstAlias() {
        let refusal = aliasRefusal(Self.laughsInAValue)
        #expect(refusal?.line == 4)
        #expect(refusal?.column == 14)
    }

    @Test(.timeLimit(.minutes(1))) func nestedAliasesAsKeysAreRefusedBeforeYamsParses() {
        let refusal = aliasRefusal(Self.laughsAsKeys)
        #expect(refusal?.line == 3)
        #expect(refusal?.column == 12)
    }

    @Test func theRefusalNamesThePlaceAndNothingOfTheText() throws {
        let error = #expect(throws: CredentialStoreError.self) {
            try ProfileDocument(path: path, text: "profiles:\n  default:\n    api_key: &k dinf_secret\n    other: *k\n")
        }
        let message = try #require(error).message
        #expect(message.hasPrefix("\(path):4:12: "))
        #expect(!message.contains("dinf_secret") && !message.contains("*k"))
    }

    @Test func linesAreCountedAsLibyamlCountsThem() {
        let crlf = aliasRefusal("profiles:\r\n  p:\r\n    k: &a v\r\n    j: *a\r\n")
        #expect(crlf?.line == 4 && crlf?.column == 8)
        let separator = aliasRefusal("profiles: {p: {k: &a v}}\u{2028}*a")
        #expect(separator?.line == 2 && separator?.column == 1)
        // After a comment on a line without quotes, a line break of any kind ends the comment.
        let afterComment = aliasRefusal("profiles: [&a v, # c\u{85}*a]")
        #expect(afterComment?.line == 2 && afterComment?.column == 1)
    }

    /// Each of these holds an alias that Yams resolves (checked against Yams 6.2.2 without the guard).
    @Test func everyPlaceAnAliasCanStartIsRefused() {
        for text in ["p: [&a v, *a]", "p: [&a v,*a]", "p: {&a k: v, x: [*a]}", "p: {\"k\":&a v, \"b\":*a}",
                     "p: &a v\nq:\n- *a", "p: &a v\nq: [\t*a]", "p: &a v\nq:\n\u{FEFF}*a", "p: &a [v]\n? *a\n: x",
                     "p: [\"x #\", &a v, *a]", "p: [\"x\n  # y\", &a v, *a]"] {
            #expect(aliasRefusal(text) != nil, "\(text.debugDescription)")
        }
    }

    @Test func starsThatCannotStartAnAliasAreKept() throws {
        let text = """
            # * a bullet in a comment, *stars* and all
            profiles:
              default:
                storage: file # *was* keyring
                note: a*b
                api_url: https://keys.example.com

            """
        let document = try ProfileDocument(path: path, text: text)
        #expect(try document.field("storage", of: "default")?.value == "file")
        #expect(try document.field("note", of: "default")?.value == "a*b")
    }

    /// The scan errs towards refusing: a star after a blank, `[{,:` or a BOM is refused even where
    /// libyaml would not read an alias (in quotes, in a plain value, after a comment on a line with quotes).
    @Test func theScanErrsTowardsRefusing() {
        #expect(aliasRefusal("profiles:\n  default:\n    note: \"a *b\"\n")?.line == 3)
        for text in ["p: a *b", "p: {b:*a}", "p: \u{FEFF}*a", "p: 'x' # *y"] {
            #expect(aliasRefusal(text) != nil, "\(text.debugDescription)")
        }
    }

    /// `render` never writes what `init` would refuse: "a\x20*b" reads fine but would be written as a *b.
    @Test func renderRefusesToWriteWhatWouldReadBackAsAnAlias() throws {
        let document = try ProfileDocument(path: path, text: "profiles:\n  default:\n    note: \"a\\x20*b\"\n")
        #expect(try document.field("note", of: "default")?.value == "a *b")
        let error = #expect(throws: CredentialStoreError.self) { try document.render(header: "") }
        guard case .fileWriteFailed(let errorPath, let detail)? = error else {
            Issue.record("render threw \(String(describing: error)), not fileWriteFailed")
            return
        }
        #expect(errorPath == path)
        #expect(detail.contains("alias"))
    }
}
