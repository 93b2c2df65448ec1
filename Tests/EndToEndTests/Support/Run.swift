import Foundation

/// What a finished subprocess left behind.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var seconds: Double
}

enum Run {
    /// The built `dev-infra`, beside this test bundle (`swift build` and `swift test` share a folder),
    /// or `DEV_INFRA_BIN`.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["DEV_INFRA_BIN"] { return path }
        return builtProduct("dev-infra")
    }

    static func builtProduct(_ name: String) -> String {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // Swift Testing may run from inside the .xctest bundle on some layouts.
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) && folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent(name).path
    }

    /// Runs `executable` with exactly `environment` (nothing inherited), feeding `stdin`, killing it
    /// after `timeout` seconds.
    @discardableResult
    static func process(_ executable: String, _ arguments: [String], environment: [String: String],
                        stdin: String? = nil, timeout: Double = 30) throws -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        let started = Date()
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        // SIGKILL, because a child may inherit a mask that blocks SIGTERM from the test runner's thread.
        let pid = process.processIdentifier
        let killer = DispatchWorkItem { if process.isRunning { kill(pid, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        // Read both pipes before waiting, so a chatty child cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        DispatchQueue.global().async(group: group) { outData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        process.waitUntilExit()
        group.wait()
        killer.cancel()
        return RunResult(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self),
                         seconds: Date().timeIntervalSince(started))
    }

    /// Starts a process that reads `stdin` and writes nowhere, without waiting for it.
    static func start(_ executable: String, _ arguments: [String], environment: [String: String], stdin: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        return process
    }

    /// Finds a program on the machine's PATH, for helpers such as dbus-daemon and secret-tool.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
