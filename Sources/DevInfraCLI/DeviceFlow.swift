import DevInfraClient
import DevInfraCore
import Foundation

/// The waiting half of the device authorization grant (RFC 8628 §3.4-3.5): poll the token endpoint
/// every `interval` seconds, 5 s slower after each `slow_down`, until the key comes, the person
/// denies, or the code expires. The clock, the sleeper and the poll are given, so a test can drive
/// every branch without waiting.
struct DeviceFlow: Sendable {
    /// One `POST /v1/device/token`.
    typealias Poll = @Sendable () async throws -> DeviceTokenAnswer

    var now: @Sendable () -> Date
    var sleep: @Sendable (_ seconds: Int) async throws -> Void

    static let live = DeviceFlow(now: { Date() }, sleep: { seconds in try await Task.sleep(for: .seconds(seconds)) })

    /// RFC 8628 §3.5: the interval when the server gives none, and what `slow_down` adds.
    static let defaultInterval = 5
    static let slowDownStep = 5
    /// Bounds on what a server may ask: no faster than every second, no slower than a minute to
    /// start with; a code lives at most an hour however long the server says.
    static let intervals = 1...60
    static let longestLife = 3600
    /// Network failures and 5xx in a row that are waited out before giving up.
    static let transientFailures = 3

    /// What the CLI learned once the grant ended in a key.
    struct Issued: Sendable, Equatable {
        var accessToken: String
        var keyID: String?
        var keyName: String?
    }

    /// When `authorization` stops working, counted from `start` (when the server answered).
    static func deadline(of authorization: DeviceAuthorization, from start: Date) -> Date {
        start.addingTimeInterval(Double(min(max(authorization.expiresIn, 1), longestLife)))
    }

    /// Polls until the grant ends. Never polls sooner than the interval after the last poll, nor
    /// after the code expired. A denial and an expiry are `access_denied` and `expired_token`
    /// (exit 3); another RFC 6749 error is the server's refusal with its code.
    func waitForKey(_ authorization: DeviceAuthorization, started: Date? = nil, poll: Poll) async throws -> Issued {
        let deadline = Self.deadline(of: authorization, from: started ?? now())
        var interval = Self.intervals.clamped(authorization.interval ?? Self.defaultInterval)
        var failures = 0
        while true {
            try await sleep(interval)
            guard now() < deadline else { throw Self.expired(authorization) }
            let answer: DeviceTokenAnswer
            do {
                answer = try await poll()
                failures = 0
            } catch let error as RemoteError where Self.isTransient(error) {
                failures += 1
                guard failures < Self.transientFailures else { throw error }
                continue
            } catch let error as RemoteError where error.reason == .rateLimited {
                interval += Self.slowDownStep
                continue
            }
            switch answer {
            case .issued(let token, let keyID, let keyName):
                return Issued(accessToken: token, keyID: keyID, keyName: keyName)
            case .pending:
                continue
            case .slowDown:
                interval += Self.slowDownStep
            case .denied:
                throw GenericError(.accessDenied, "the sign-in was denied in the browser; nothing was stored")
            case .expired:
                throw Self.expired(authorization)
            case .refused(let status, let error, let description):
                throw RemoteError.problem(status: status, code: error, detail: description ?? "the server refused the device code (\(error))",
                                          scope: nil, retryAfter: nil)
            }
        }
    }

    static func expired(_ authorization: DeviceAuthorization) -> GenericError {
        GenericError(.expiredToken, "the code \(Printable.escaped(authorization.userCode)) expired before it was approved; "
            + "run dev-infra login --web again for a new one")
    }

    /// The server could not be reached, or failed (5xx): worth another poll at the next interval.
    static func isTransient(_ error: RemoteError) -> Bool {
        switch error {
        case .unreachable, .timedOut: true
        case .problem(let status, _, _, _, _), .unexpected(let status, _): status >= 500
        case .tls: false
        }
    }
}

extension ClosedRange where Bound == Int {
    func clamped(_ value: Int) -> Int { Swift.min(Swift.max(value, lowerBound), upperBound) }
}
