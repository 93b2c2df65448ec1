import DevInfraCore
import Foundation

/// A user with an empty home and config folder, and an environment that holds nothing of the
/// machine's own: no session bus, no keys, no profile.
final class Sandbox {
    let root: String
    var environment: [String: String]

    init() {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("dev-infra-e2e-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        environment = [
            "HOME": root + "/home",
            "XDG_CONFIG_HOME": root + "/config",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "LANG": "C.UTF-8",
        ]
    }

    deinit {
        _ = try? Run.process("/bin/chmod", ["-R", "u+w", root], environment: [:])
        try? FileManager.default.removeItem(atPath: root)
    }

    var configFolder: String { root + "/config/dev-infra" }
    var credentialsFile: String { configFolder + "/credentials.yml" }
    var configFile: String { configFolder + "/config.yml" }

    /// Runs `dev-infra` with this sandbox's environment plus `extra`.
    @discardableResult
    func devInfra(_ arguments: [String], stdin: String? = nil, extra: [String: String] = [:], timeout: Double = 30) throws -> RunResult {
        try Run.process(Run.binary, arguments, environment: environment.merging(extra) { $1 }, stdin: stdin, timeout: timeout)
    }

    func read(_ path: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) }
    }

    func write(_ path: String, _ text: String, mode: Int) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
    }
}
