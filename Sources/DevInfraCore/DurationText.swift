/// Durations as the CLI reads and writes them: `0`, `45s`, `30m`, `12h`, `7d`.
public enum DurationText {
    /// Seconds, or nil when `text` is not a duration.
    public static func seconds(_ text: String) -> Int? {
        if text == "0" { return 0 }
        guard let unit = text.last, let value = Int(text.dropLast()), value >= 0 else { return nil }
        switch unit {
        case "s": return value
        case "m": return value.multipliedReportingOverflow(by: 60).overflow ? nil : value * 60
        case "h": return value.multipliedReportingOverflow(by: 3600).overflow ? nil : value * 3600
        case "d": return value.multipliedReportingOverflow(by: 86400).overflow ? nil : value * 86400
        default: return nil
        }
    }

    /// The largest whole unit: 604800 → "7d", 90 → "90s".
    public static func format(_ seconds: Int) -> String {
        if seconds == 0 { return "0" }
        for (size, unit) in [(86400, "d"), (3600, "h"), (60, "m")] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
