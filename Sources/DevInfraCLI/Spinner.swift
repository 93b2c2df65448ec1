import Foundation

/// One line on a terminal's stderr that turns while `login --web` waits, redrawn in place and
/// erased when it stops, so that nothing of it stays in the scrollback.
final class Spinner: @unchecked Sendable {
    static let unicodeFrames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
    static let asciiFrames = ["-", "\\", "|", "/"]

    private let write: @Sendable (String) -> Void
    private let frames: [String]
    private let lock = NSLock()
    private var task: Task<Void, Never>?
    private var stopped = false

    init(write: @escaping @Sendable (String) -> Void, unicode: Bool) {
        self.write = write
        frames = unicode ? Self.unicodeFrames : Self.asciiFrames
    }

    /// Whether the locale speaks UTF-8, so that the braille frames show as such.
    static func unicode(_ environment: [String: String]) -> Bool {
        let locale = [environment["LC_ALL"], environment["LC_CTYPE"], environment["LANG"]].compactMap { $0 }.first { !$0.isEmpty } ?? ""
        return locale.lowercased().replacingOccurrences(of: "-", with: "").contains("utf8")
    }

    /// Redraws `text()` (asked again for every frame) next to the next frame, ten times a second.
    func start(_ text: @escaping @Sendable () -> String) {
        lock.lock()
        defer { lock.unlock() }
        do {
            guard task == nil, !stopped else { return }
            task = Task { [weak self] in
                var index = 0
                while !Task.isCancelled {
                    guard let self else { return }
                    self.draw(frame: index, text: text())
                    index += 1
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    private func draw(frame: Int, text: String) {
        lock.lock()
        defer { lock.unlock() }
        do {
            guard !stopped else { return }
            write("\r\(frames[frame % frames.count]) \(text)\u{1B}[K")
        }
    }

    /// Erases the line; no frame is drawn after this returns.
    func stop() {
        lock.lock()
        defer { lock.unlock() }
        do {
            guard !stopped else { return }
            stopped = true
            task?.cancel()
            if task != nil { write("\r\u{1B}[K") }
        }
    }
}
