import DevInfraCore
import Testing
@testable import DevInfraClient

/// A reason code the server sends exits the CLI with the status the code promises, and a status
/// without a code the client knows exits the same way: one mapping, seen from both ends.
struct ReasonCodeExitTests {
    @Test(arguments: ReasonCode.allCases.filter { $0.httpStatus != nil })
    func aServerCodeExitsAsItsStatusDoes(_ reason: ReasonCode) throws {
        let status = try #require(reason.httpStatus)
        #expect(RemoteError.exitStatus(forStatus: status) == reason.exitStatus, "\(reason.rawValue) is HTTP \(status)")
        let error = RemoteError.problem(status: status, code: reason.rawValue, detail: "x", scope: nil, retryAfter: nil)
        #expect(error.exitStatus == reason.exitStatus)
        #expect(error.reason == reason)
    }
}
