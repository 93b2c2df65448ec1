#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The process's real streams, through libc: cheap at start-up and exact about bytes.
enum Terminal {
    static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    static func writeOut(_ text: String) {
        fputs(text, stdout)
        fflush(stdout)
    }

    static func writeErr(_ text: String) {
        fputs(text, stderr)
    }

    static func readAll(fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[..<count])
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads one line from the terminal, echoed.
    static func readLine(prompt: String) -> String? {
        guard isatty(0) == 1 else { return nil }
        writeErr(prompt)
        return readLineBytes()
    }

    private static func readLineBytes() -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(0, &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }

    /// Reads one line from the terminal with echo off, as `getpass` does, restoring the mode after.
    static func readHidden(prompt: String) -> String? {
        let fd: Int32 = 0
        guard isatty(fd) == 1 else { return nil }
        writeErr(prompt)
        var saved = termios()
        let canHide = tcgetattr(fd, &saved) == 0
        if canHide {
            var hidden = saved
            hidden.c_lflag &= ~tcflag_t(ECHO)
            hidden.c_lflag |= tcflag_t(ECHONL)
            tcsetattr(fd, TCSANOW, &hidden)
        }
        defer { if canHide { tcsetattr(fd, TCSANOW, &saved) } }
        return readLineBytes()
    }
}
