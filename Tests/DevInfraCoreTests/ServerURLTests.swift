import DevInfraCore
import Testing

struct ServerURLTests {
    @Test(arguments: [
        ("https://keys.example.com", "https://keys.example.com"),
        ("https://keys.example.com/", "https://keys.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9000/api/", "http://localhost:9000/api"),
        ("http://[::1]:8080", "http://[::1]:8080"),
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
