import Foundation

/// A fresh folder per test, removed when the test's value goes away.
final class TempFolder {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("dev-infra-tests-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ relative: String) -> String { path + "/" + relative }

    func write(_ relative: String, _ text: String, mode: Int = 0o600) throws {
        let full = file(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
    }

    func read(_ relative: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: file(relative)))).map { String(decoding: $0, as: UTF8.self) }
    }

    func modificationTime(_ relative: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: file(relative)))?[.modificationDate] as? Date
    }

    func mode(_ relative: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: file(relative)))?[.posixPermissions] as? Int) ?? -1
    }
}
