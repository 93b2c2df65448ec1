import DevInfraCore
import Testing

struct PrintableTests {
    @Test(arguments: [("deploy", "deploy"), ("café", "café"), ("a\u{1B}[2Jb", "a?[2Jb"), ("x\u{202E}y", "x?y"),
                      ("bell\u{07}", "bell?"), ("zero\u{200B}width", "zero?width"), ("tab\tnew\nline", "tab?new?line")])
    func serverTextCannotDriveTheTerminal(_ input: String, _ shown: String) {
        #expect(Printable.escaped(input) == shown)
    }
}
