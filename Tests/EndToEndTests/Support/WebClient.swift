import Foundation

/// A person at a browser, without the browser: HTTP/1.1 over a loopback socket, with the cookies
/// the server sets kept and sent back, forms posted as a browser posts them, and redirects NOT
/// followed (a test looks at the 303 and its Set-Cookie itself).
final class WebClient {
    struct Reply {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: String

        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        func all(_ name: String) -> [String] { headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) }
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    /// name → value, as the server set them.
    private(set) var cookies: [String: String] = [:]

    /// `baseURL`: `http://127.0.0.1:PORT` (the test server's `url`).
    init(baseURL: String) {
        port = Int(baseURL.split(separator: ":").last.map(String.init) ?? "") ?? 0
    }

    var origin: String { "http://127.0.0.1:\(port)" }

    func get(_ path: String) throws -> Reply {
        try request("GET", path, body: nil)
    }

    /// A form post from the site's own page: `Origin` is the site, as a browser sends it.
    func post(_ path: String, form: [(String, String)]) throws -> Reply {
        try request("POST", path, body: Self.formEncoded(form))
    }

    /// Signs in on `/login` as the form does (with the page's CSRF token, if it has one) and keeps
    /// the session cookie.
    func signIn(username: String, password: String) throws {
        let page = try get("/login")
        var form = [("username", username), ("password", password)]
        if let csrf = Self.csrf(in: page.body) { form.append(("csrf", csrf)) }
        let reply = try post("/login", form: form)
        guard (200..<400).contains(reply.status), cookies["dinf_session"] != nil else {
            throw Failed(description: "POST /login answered \(reply.status) and set no dinf_session cookie: \(reply.body.prefix(500))")
        }
    }

    /// The value of the page's first `<input name="csrf" value="...">`.
    static func csrf(in html: String) -> String? {
        guard let input = html.range(of: #"<input[^>]*name="csrf"[^>]*>"#, options: .regularExpression),
              let value = html[input].range(of: #"value="[^"]*""#, options: .regularExpression) else { return nil }
        return String(html[input][value].dropFirst("value=\"".count).dropLast())
    }

    static func formEncoded(_ fields: [(String, String)]) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._ ")
        func encode(_ text: String) -> String {
            (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(of: " ", with: "+")
        }
        return fields.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    /// One request on its own connection (`Connection: close`); the answer read to its end.
    func request(_ method: String, _ path: String, body: String?) throws -> Reply {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nAccept: text/html\r\nUser-Agent: dev-infra-e2e\r\n"
        if !cookies.isEmpty {
            head += "Cookie: " + cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") + "\r\n"
        }
        let payload = Data((body ?? "").utf8)
        if body != nil {
            head += "Origin: \(origin)\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(payload.count)\r\n"
        }
        let raw = try Self.exchange(port: port, request: Data((head + "\r\n").utf8) + payload)
        let reply = try Self.parse(raw)
        for cookie in reply.all("Set-Cookie") {
            let pair = cookie.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = pair[..<equals].trimmingCharacters(in: .whitespaces)
            let value = String(pair[pair.index(after: equals)...])
            if value.isEmpty || cookie.lowercased().contains("max-age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return reply
    }

    /// Writes `request` to 127.0.0.1:`port` and reads until the server closes (15 s at most).
    static func exchange(port: Int, request: Data) throws -> Data {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failed(description: "socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw Failed(description: "cannot connect to 127.0.0.1:\(port)") }
        var sent = 0
        let bytes = [UInt8](request)
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw Failed(description: "send failed (errno \(errno))") }
            sent += count
        }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw Failed(description: "no complete answer within 15 s (errno \(errno)); got \(received.count) bytes") }
            if count == 0 { break }
            received.append(contentsOf: buffer[..<count])
            if isComplete(received) { break }
        }
        return received
    }

    /// Whether `data` holds a whole answer, by Content-Length or a last chunk at its end; else the
    /// answer ends when the server closes the connection.
    static func isComplete(_ data: Data) -> Bool {
        guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { return false }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).lowercased()
        let bodyLength = data.count - end.upperBound
        for line in head.split(separator: "\r\n") {
            if line.hasPrefix("content-length:"), let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
                return bodyLength >= length
            }
            if line.hasPrefix("transfer-encoding:") && line.contains("chunked") {
                return data.count - end.upperBound >= 5 && data.suffix(5) == Data("0\r\n\r\n".utf8)
            }
        }
        return false
    }

    static func parse(_ data: Data) throws -> Reply {
        guard let end = data.range(of: Data("\r\n\r\n".utf8)) else {
            throw Failed(description: "not an HTTP answer: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        let lines = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failed(description: "bad status line \(lines[0])") }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Data(data[end.upperBound...])
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked") }) {
            body = dechunked(body)
        } else if let length = headers.first(where: { $0.name.lowercased() == "content-length" }).flatMap({ Int($0.value) }) {
            body = body.prefix(length)
        }
        return Reply(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    static func dechunked(_ data: Data) -> Data {
        var out = Data()
        var rest = data[...]
        while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
            let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size else { break }
            let stop = rest.index(start, offsetBy: size)
            out.append(rest[start..<stop])
            rest = rest[stop...]
            if rest.starts(with: Data("\r\n".utf8)) { rest = rest.dropFirst(2) }
        }
        return out
    }
}

/// A subprocess whose stderr and stdout are read as they come, so a test can act on a line
/// (the one-time code) while the process keeps running.
final class LiveProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private let readers = DispatchGroup()

    init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        read(outPipe.fileHandleForReading) { [unowned self] in self.out.append($0) }
        read(errPipe.fileHandleForReading) { [unowned self] in self.err.append($0) }
    }

    /// Reads `handle` to its end on a thread of its own, appending under the lock.
    private func read(_ handle: FileHandle, into append: @escaping @Sendable (Data) -> Void) {
        DispatchQueue.global().async(group: readers) { [lock] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                append(chunk)
                lock.unlock()
            }
        }
    }

    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }

    /// The first match of `pattern` in stderr (its first capture group when it has one), waiting
    /// up to `timeout` seconds for it; nil when it never came.
    func waitForStderr(_ pattern: String, timeout: Double = 20) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        let regex = try! NSRegularExpression(pattern: pattern)
        func find() -> String? {
            let text = stderr
            guard let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
            let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
            return Range(range, in: text).map { String(text[$0]) }
        }
        while Date() < deadline {
            if let found = find() { return found }
            if !process.isRunning {
                // It exited: what it wrote last is read once both pipes are at their end.
                readers.wait()
                return find()
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    /// The exit status, waiting up to `timeout` seconds; a process still running then is killed
    /// (SIGKILL) and reported as nil.
    func wait(timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            readers.wait()
            return nil
        }
        process.waitUntilExit()
        readers.wait()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
