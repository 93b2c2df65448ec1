import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Debian's nginx, in the foreground and in one process (no privilege drop, nothing outside
/// `folder`), serving `examples/nginx/dev-infra.conf` with its loopback ports rewritten.
final class Nginx {
    static let binary = "/usr/sbin/nginx"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: binary) }
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/nginx/dev-infra.conf")

    let process = Process()
    let port: Int
    let folder: String
    var url: String { "http://127.0.0.1:\(port)" }

    /// `ports`: the example's addresses (`127.0.0.1:8080` dev-infra, `:9000` the service) to theirs.
    init(folder: String, ports: [String: Int]) throws {
        self.folder = folder
        port = try FreePort.pick()
        var site = try String(contentsOf: Self.example, encoding: .utf8)
        for (from, to) in ports.merging(["127.0.0.1:8000": port]) { $1 } {
            guard site.contains(from) else { throw Failed(log: "the example has no \(from)") }
            site = site.replacingOccurrences(of: from, with: "127.0.0.1:\(to)")
        }
        try FileManager.default.createDirectory(atPath: folder + "/temp", withIntermediateDirectories: true)
        try site.write(toFile: folder + "/dev-infra.conf", atomically: true, encoding: .utf8)
        let temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map { "\($0)_temp_path \(folder)/temp/\($0);" }.joined(separator: " ")
        let main = """
            daemon off;
            master_process off;
            pid \(folder)/nginx.pid;
            error_log \(folder)/error.log info;
            events { worker_connections 256; }
            http {
                access_log off;
                \(temps)
                include \(folder)/dev-infra.conf;
            }
            """
        try main.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-p", folder, "-c", folder + "/nginx.conf", "-e", folder + "/error.log"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if FreePort.accepts(port) { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw Failed(log: (try? String(contentsOfFile: folder + "/error.log", encoding: .utf8)) ?? "")
    }

    struct Failed: Error, CustomStringConvertible {
        let log: String
        var description: String { "nginx did not start:\n\(log)" }
    }

    var errorLog: String { (try? String(contentsOfFile: folder + "/error.log", encoding: .utf8)) ?? "" }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

enum FreePort {
    /// A port the kernel just handed out on 127.0.0.1 and that is free again (for a program that
    /// must be told its port: nginx, a server restarted on the same address).
    static func pick() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// A blocking HTTP request that keeps what a gateway test looks at: status, headers, body.
struct HTTPReply {
    var status: Int
    var headers: [String: String]
    var body: String
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }

    static func send(_ url: String, method: String = "GET", headers: [String: String] = [:]) -> HTTPReply {
        var request = URLRequest(url: URL(string: url)!, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 15)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var reply = HTTPReply(status: 0, headers: [:], body: "")
        URLSession.shared.dataTask(with: request) { data, response, _ in
            let http = response as? HTTPURLResponse
            reply = HTTPReply(status: http?.statusCode ?? 0,
                              headers: (http?.allHeaderFields as? [String: String]) ?? [:],
                              body: data.map { String(decoding: $0, as: UTF8.self) } ?? "")
            done.signal()
        }.resume()
        done.wait()
        return reply
    }
}
