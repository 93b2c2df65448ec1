import DevInfraCore
import Testing

struct DurationTextTests {
    @Test(arguments: [("0", 0), ("45s", 45), ("30m", 1800), ("12h", 43200), ("7d", 604800)])
    func parses(_ text: String, _ seconds: Int) {
        #expect(DurationText.seconds(text) == seconds)
        #expect(DurationText.seconds(DurationText.format(seconds)) == seconds)
    }

    @Test(arguments: ["", "d", "7", "-1d", "1w", "1.5h", "7 d", "99999999999999999d"])
    func rejects(_ text: String) {
        #expect(DurationText.seconds(text) == nil)
    }
}
