import DevInfraCore
import Testing

struct ReasonCodeTests {
    @Test func designReasonCodesMapToTheirExitStatus() {
        #expect(ReasonCode.missingCredentials.exitStatus.rawValue == 3)
        #expect(ReasonCode.keyRevoked.exitStatus.rawValue == 3)
        #expect(ReasonCode.insufficientScope.exitStatus.rawValue == 4)
        #expect(ReasonCode.rateLimited.exitStatus.rawValue == 7)
        #expect(ReasonCode.filePermissions.exitStatus.rawValue == 8)
        #expect(ReasonCode.keyringTimeout.exitStatus.rawValue == 8)
        #expect(ReasonCode.invalidArgument.exitStatus.rawValue == 64)
    }

    @Test func codesAreSnakeCaseAndUnique() {
        let raw = ReasonCode.allCases.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
        #expect(raw.allSatisfy { $0.allSatisfy { $0 == "_" || ("a"..."z").contains($0) } })
    }
}
