/// A rate limit as the CLI reads and writes it: `600/1m` is a bucket of 600 requests refilled over
/// a minute. The API's form is `{"limit": 600, "window_seconds": 60}`.
public struct RateSpec: Sendable, Equatable, CustomStringConvertible {
    public var limit: Int
    public var windowSeconds: Int

    /// The server refuses windows longer than a day, so the CLI does too, before asking.
    public static let maxWindowSeconds = 86400

    public init(limit: Int, windowSeconds: Int) {
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    /// `N/Ws`, `N/Wm`, `N/Wh` (a window of W seconds, minutes or hours), or the shorthand `N/s`,
    /// `N/m`, `N/h` for a window of one; nil for anything else, a limit below 1 or a window outside
    /// one second to a day.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let limit = Self.number(parts[0]), limit >= 1, let unit = parts[1].last else { return nil }
        let size: Int
        switch unit {
        case "s": size = 1
        case "m": size = 60
        case "h": size = 3600
        default: return nil
        }
        let count = parts[1].dropLast()
        let windows: Int? = count.isEmpty ? 1 : Self.number(count)
        guard let windows, windows >= 1, windows <= Self.maxWindowSeconds / size else { return nil }
        self.init(limit: limit, windowSeconds: windows * size)
    }

    /// The largest whole unit: `600/1m`, `10/1s`, `5000/2h`, `7/90s`.
    public var description: String {
        for (size, unit) in [(3600, "h"), (60, "m")] where windowSeconds >= size && windowSeconds % size == 0 {
            return "\(limit)/\(windowSeconds / size)\(unit)"
        }
        return "\(limit)/\(windowSeconds)s"
    }

    /// Requests a second, for comparing rates with different windows.
    public var perSecond: Double { Double(limit) / Double(windowSeconds) }

    /// Plain ASCII digits only: no sign, no spaces, no other numerals.
    static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }
}
