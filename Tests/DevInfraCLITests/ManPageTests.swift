import ArgumentParser
import DevInfraCore
import Foundation
import Testing
@testable import DevInfraCLI

/// The committed man page documents what the code defines: every subcommand, and every exit status
/// with its meaning (from `ExitStatus` itself, so a new status without documentation fails here).
struct ManPageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var man: String { get throws { try String(contentsOf: root.appendingPathComponent("man/dev-infra.1"), encoding: .utf8) } }

    @Test func everySubcommandHasItsSection() throws {
        let man = try Self.man
        let names = DevInfraCommand.configuration.subcommands.map { $0._commandName }
        #expect(names.count >= 11)
        for name in names {
            #expect(man.contains(".It Em \(name)\n"), "man/dev-infra.1 has no section for \(name)")
        }
    }

    @Test func everyExitStatusIsDocumentedWithItsMeaning() throws {
        let man = try Self.man
        for status in ExitStatus.allCases {
            let padded = String(status.rawValue).padding(toLength: 4, withPad: " ", startingAt: 0)
            #expect(man.contains("  \(padded)\(status.summary)\n"), "man/dev-infra.1 lacks \"\(status.rawValue) \(status.summary)\"")
        }
    }
}
