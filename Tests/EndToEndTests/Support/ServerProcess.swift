import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `dev-infra-server` binary on a free loopback port, with its database in a temp folder
/// (or on the test PostgreSQL: `TestDatabase`) and its stderr (the log) in a file.
final class ServerProcess: @unchecked Sendable {
    let folder: String
    let process = Process()
    private(set) var port = 0
    /// The database URL; replicas are servers given the same one (and the same secret file).
    let database: String
    let secretFile: String
    var logPath: String { folder + "/server.log" }
    /// Seconds added to the server's clock (`--test-clock-file`): `advanceClock` instead of sleeping.
    var clockPath: String { folder + "/clock-offset" }
    private var offset: Double = 0

    init(folder: String, arguments: [String] = [], database: String? = nil, secretFile: String? = nil,
         environment: [String: String] = [:]) throws {
        self.folder = folder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.database = try database ?? TestDatabase.freshURL(folder: folder)
        self.secretFile = try secretFile ?? TestDatabase.secretFile(in: folder)
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Run.builtProduct("dev-infra-server"))
        FileManager.default.createFile(atPath: clockPath, contents: Data("0".utf8))
        process.arguments = ["serve", "--port", "0", "--database", self.database, "--secret-file", self.secretFile,
                             "--test-clock-file", clockPath] + arguments
        process.environment = ["HOME": folder, "PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        // Hummingbird logs the address it bound once it listens.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let range = log.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last!)!
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ServerFailed(log: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }

    struct ServerFailed: Error, CustomStringConvertible {
        let log: String
        var description: String { "dev-infra-server did not start:\n\(log)" }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Moves the server's clock forward; the next request sees the new time.
    func advanceClock(_ seconds: Double) throws {
        offset += seconds
        try String(offset).write(toFile: clockPath, atomically: true, encoding: .utf8)
    }

    /// Runs the server binary's other commands (admin ...) on the same database.
    func admin(_ arguments: [String], stdin: String? = nil) throws -> RunResult {
        try Run.process(Run.builtProduct("dev-infra-server"), arguments + ["--database", database],
                        environment: ["HOME": folder, "PATH": "/usr/bin:/bin"], stdin: stdin)
    }

    /// SIGTERM, as an operator or service manager stops it; waits for the graceful exit.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// A blocking HTTP request: (status, body).
    func request(_ method: String, _ path: String, key: String? = nil, body: String? = nil,
                 headers: [String: String] = [:]) throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, [String: Any]) = (0, [:])
        URLSession.shared.dataTask(with: request) { data, response, _ in
            let object = data.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any] ?? [:]
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, object)
            done.signal()
        }.resume()
        done.wait()
        return result
    }
}
