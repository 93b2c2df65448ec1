import DevInfraCore
import Foundation

/// Opens a URL in the person's browser where there is one: `$BROWSER URL` when BROWSER is set
/// (a command, `%s` standing for the URL if it holds one; `:` separates alternatives, the first on
/// PATH wins), else `xdg-open URL` on a graphical session (DISPLAY or WAYLAND_DISPLAY set) that
/// has it. Only an https URL, or http to a loopback address, is opened. Opening is a convenience:
/// it never fails the command, it says why it did not happen.
struct BrowserOpener: Sendable {
    /// Starts `path` with `arguments` in `environment`, without waiting for it.
    typealias Launch = @Sendable (_ path: String, _ arguments: [String], _ environment: [String: String]) throws -> Void

    var environment: [String: String]
    var isExecutable: @Sendable (String) -> Bool = { FileManager.default.isExecutableFile(atPath: $0) }
    var launch: Launch = { try BrowserOpener.spawn($0, $1, $2) }

    /// The program to run, or why there is none.
    enum Choice: Equatable {
        case run(path: String, arguments: [String])
        case unavailable(String)
    }

    func choice(for url: String) -> Choice {
        guard case .success = ServerURL.validate(OIDCTokenSource.origin(of: url)),
              !url.unicodeScalars.contains(where: { $0.properties.isWhitespace || Printable.isHidden($0) }) else {
            return .unavailable("the URL is not an https URL (or http to a loopback address)")
        }
        if let browser = nonEmpty("BROWSER") {
            for alternative in browser.split(separator: ":") {
                let words = alternative.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let program = words.first, let path = resolve(program) else { continue }
                let rest = Array(words.dropFirst())
                let substituted = rest.contains(where: { $0.contains("%s") })
                let arguments = substituted ? rest.map { $0.replacingOccurrences(of: "%s", with: url) } : rest + [url]
                return .run(path: path, arguments: arguments)
            }
            return .unavailable("BROWSER (\(Printable.escaped(String(browser.prefix(200))))) names no program found on PATH")
        }
        guard nonEmpty("DISPLAY") != nil || nonEmpty("WAYLAND_DISPLAY") != nil else {
            return .unavailable("there is no graphical session (DISPLAY and WAYLAND_DISPLAY are unset) and BROWSER is not set")
        }
        guard let path = resolve("xdg-open") else { return .unavailable("xdg-open is not on PATH and BROWSER is not set") }
        return .run(path: path, arguments: [url])
    }

    /// Opens `url`: nil when a browser was started, else why not (for a note).
    func open(_ url: String) -> String? {
        switch choice(for: url) {
        case .unavailable(let why):
            return why
        case .run(let path, let arguments):
            do {
                try launch(path, arguments, environment)
                return nil
            } catch {
                return "\(path) could not be started (\(error))"
            }
        }
    }

    private func nonEmpty(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A program by path, or by name on PATH.
    func resolve(_ program: String) -> String? {
        if program.contains("/") { return isExecutable(program) ? program : nil }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first(where: isExecutable)
    }

    /// The browser gets no stdin and writes nowhere: nothing of it mixes with the CLI's output, and
    /// it holds none of the CLI's pipes open.
    static func spawn(_ path: String, _ arguments: [String], _ environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }
}
