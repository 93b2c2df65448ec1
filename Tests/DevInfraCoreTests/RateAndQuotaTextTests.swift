import DevInfraCore
import Testing

struct RateAndQuotaTextTests {
    @Test(arguments: [("600/1m", 600, 60), ("10/1s", 10, 1), ("10/s", 10, 1), ("100/m", 100, 60), ("5000/h", 5000, 3600),
                      ("7/90s", 7, 90), ("5000/2h", 5000, 7200), ("1/24h", 1, 86400), ("50/1440m", 50, 86400)])
    func parsesRates(_ text: String, _ limit: Int, _ window: Int) throws {
        let rate = try #require(RateSpec(text))
        #expect(rate == RateSpec(limit: limit, windowSeconds: window))
        #expect(RateSpec(rate.description) == rate, "\(rate.description) reads back")
    }

    @Test func formatsRatesInTheLargestWholeUnit() {
        #expect(RateSpec(limit: 600, windowSeconds: 60).description == "600/1m")
        #expect(RateSpec(limit: 10, windowSeconds: 1).description == "10/1s")
        #expect(RateSpec(limit: 5, windowSeconds: 90).description == "5/90s")
        #expect(RateSpec(limit: 5, windowSeconds: 7200).description == "5/2h")
    }

    @Test(arguments: ["", "600", "600/", "/1m", "0/1m", "-1/1m", "600/0m", "600/1d", "600/25h", "600/86401s", "600/1 m",
                      " 600/1m", "600/1m/1s", "6e2/1m", "600/+1m", "600/m1", "99999999999999999999/1s", "600/1M", "٣/1s"])
    func rejectsRates(_ text: String) {
        #expect(RateSpec(text) == nil)
    }

    @Test(arguments: [("1000/day", 1000, QuotaSpec.Period.day), ("500/month", 500, .month), ("3", 3, .total), ("3/total", 3, .total)])
    func parsesQuotas(_ text: String, _ limit: Int, _ period: QuotaSpec.Period) throws {
        let quota = try #require(QuotaSpec(text))
        #expect(quota == QuotaSpec(limit: Int64(limit), period: period))
        #expect(QuotaSpec(quota.description) == quota)
    }

    @Test(arguments: ["", "0", "0/day", "-5/day", "5/week", "5/Day", "5/", "/day", "5/day/1", "five/day", "5 /day", "99999999999999999999"])
    func rejectsQuotas(_ text: String) {
        #expect(QuotaSpec(text) == nil)
    }
}
