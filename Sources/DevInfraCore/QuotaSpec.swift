/// A quota as the CLI reads and writes it: `1000/day`, `500/month`, or `50` (`50/total`) requests.
/// The API's form is `{"limit": 1000, "period": "day"}`.
public struct QuotaSpec: Sendable, Equatable, CustomStringConvertible {
    /// `day` and `month` are UTC calendar days and months, after which the count starts again;
    /// `total` never renews.
    public enum Period: String, Sendable, CaseIterable {
        case day, month, total
    }

    public var limit: Int64
    public var period: Period

    public init(limit: Int64, period: Period) {
        self.limit = limit
        self.period = period
    }

    /// `N/day`, `N/month`, `N/total` or `N`; nil for anything else or a limit below 1.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 18,
              parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let limit = Int64(parts[0]), limit >= 1 else { return nil }
        let period: Period? = parts.count == 2 ? Period(rawValue: String(parts[1])) : Period.total
        guard let period else { return nil }
        self.init(limit: limit, period: period)
    }

    public var description: String { "\(limit)/\(period.rawValue)" }
}
