import Foundation

/// One of the small Python servers in Support/ (a proxy that drops a connection, a hostile
/// server), running until `stop()`; it prints its loopback port first.
final class LoopbackScript {
    let process = Process()
    let url: String

    init(_ name: String, arguments: [String] = []) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(name).path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script] + arguments
        let out = Pipe()
        process.standardOutput = out
        // Nothing of ours may stay open in it, and SIGKILL: it may inherit a mask that blocks SIGTERM.
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let port = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        url = "http://127.0.0.1:\(port)"
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
