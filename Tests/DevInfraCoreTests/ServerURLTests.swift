import DevInfraCore
import Testing

struct ServerURLTests {
    @Test(arguments: [
        ("https://keys.example.com", "https://keys.example.com"),
        ("https://keys.example.com/", "https://keys.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9000/api/", "http://localhost:9000/api"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://127.8.9.10", "http://127.8.9.10"),
        ("http://LOCALHOST:1", "http://LOCALHOST:1"),
    ])
    func accepted(_ input: String, _ normalized: String) throws {
        #expect(try ServerURL.validate(input).get() == normalized)
    }

    @Test(arguments: [
        ("http://keys.example.com", "use https"),
        ("keys.example.com", "needs a scheme"),
        ("ftp://keys.example.com", "scheme must be https"),
        ("https://", "no host"),
        ("https://user:pw@keys.example.com", "credentials do not belong"),
        ("http://127.0.0.1.evil.com", "use https"),
        ("http://127.evil.example.com", "use https"),
        ("http://127.0.1.com", "use https"),
        ("http://127.1", "use https"),
        ("http://0x7f.0.0.1", "use https"),
        ("http://2130706433", "use https"),
        ("http://[::ffff:127.0.0.1]", "use https"),
        ("http://localhost.evil.com", "use https"),
        ("http://[::1].evil.com/", "invalid server URL"),
        ("http://[::1]x/", "invalid server URL"),
        ("https://keys.example.com/\u{0}", "control characters"),
        ("http://127.0.0.1:99999", "port must be 1 to 65535"),
        ("https://keys.example.com:0", "port must be 1 to 65535"),
        ("https://keys.example.com/?x=1", "no query"),
        ("https://keys.example.com/#top", "no query"),
    ])
    func rejected(_ input: String, _ fragment: String) {
        guard case .failure(let error) = ServerURL.validate(input) else {
            Issue.record("\(input) was accepted")
            return
        }
        #expect(error.message.contains(fragment))
        #expect(error.reason == .invalidArgument)
    }
}
