/// Every error a user can meet: a stable reason code, a message for humans that says what went
/// wrong, where, and how to fix it, and (through the reason) the exit status.
///
/// Messages must never contain a secret: mask keys with `APIKey.masked`.
public protocol DevInfraError: Error, CustomStringConvertible {
    var reason: ReasonCode { get }
    var message: String { get }
    /// The code printed in brackets; the reason's, unless a server sent one this build does not know.
    var code: String { get }
    var exitStatus: ExitStatus { get }
}

extension DevInfraError {
    public var code: String { reason.rawValue }
    public var exitStatus: ExitStatus { reason.exitStatus }
    /// The line printed on stderr: the message, then the reason code scripts can match on.
    public var description: String { "\(message) [\(code)]" }
}

/// A failure with no richer type of its own.
public struct GenericError: DevInfraError, Equatable {
    public let reason: ReasonCode
    public let message: String
    public init(_ reason: ReasonCode, _ message: String) {
        self.reason = reason
        self.message = message
    }
}
