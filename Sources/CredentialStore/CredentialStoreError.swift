import DevInfraCore

/// Why the local credential store could not do what was asked. Paths are named; keys never are.
public enum CredentialStoreError: DevInfraError, Equatable {
    case fileUnreadable(path: String, detail: String)
    case fileCorrupt(path: String, line: Int?, column: Int?, problem: String)
    case filePermissions(path: String, mode: UInt32)
    case fileWriteFailed(path: String, detail: String)
    case keyring(KeyringFailure, operation: String, hint: String?)
    case invalidProfileName(String)
    case invalidURL(String, problem: String)
    case invalidSetting(variable: String, problem: String)
    case noCredential(profile: String)
    case malformedEnvironmentKey(variable: String, KeyFormatError)
    case serverMismatch(profile: String, stored: String, requested: String)

    public var reason: ReasonCode {
        switch self {
        case .fileUnreadable: .fileUnreadable
        case .fileCorrupt: .fileCorrupt
        case .filePermissions: .filePermissions
        case .fileWriteFailed: .fileWriteFailed
        case .keyring(let failure, _, _): failure.reason
        case .invalidProfileName, .invalidURL, .invalidSetting: .invalidArgument
        case .noCredential: .missingCredentials
        case .malformedEnvironmentKey: .malformedKey
        case .serverMismatch: .credentialServerMismatch
        }
    }

    public var message: String {
        switch self {
        case .fileUnreadable(let path, let detail):
            return "cannot read \(path): \(detail). Check that the file is yours and readable, or remove it and log in again."
        case .fileCorrupt(let path, let line, let column, let problem):
            let place = line.map { ":\($0)" + (column.map { ":\($0)" } ?? "") } ?? ""
            return "\(path)\(place): \(problem). The file was left as it is: fix that line, or move the file away and log in again."
        case .filePermissions(let path, let mode):
            return "\(path) is accessible by group or others (mode \(Posix.octal(mode))); a file that holds API keys, or says where they are sent, must be private. Fix it with: chmod 600 '\(path)'"
        case .fileWriteFailed(let path, let detail):
            return "cannot write \(path): \(detail). Nothing was changed."
        case .keyring(let failure, let operation, let hint):
            return "the keyring could not \(operation): \(failure.detail)" + (hint.map { ". \($0)" } ?? "")
        case .invalidProfileName(let name):
            return "invalid profile name \"\(name)\": use 1 to 64 letters, digits, '.', '_' or '-'"
        case .invalidURL(_, let problem):
            return problem
        case .invalidSetting(let variable, let problem):
            return "\(variable): \(problem)"
        case .noCredential(let profile):
            return "no API key for profile \"\(profile)\". Log in with `dev-infra login --with-token < keyfile` (add --profile \(profile) for this profile), or set DEV_INFRA_API_KEY."
        case .malformedEnvironmentKey(let variable, let error):
            return "\(variable) does not hold a dev-infra key: \(error.detail). Set it to the whole key, exactly as it was shown when it was created."
        case .serverMismatch(let profile, let stored, let requested):
            return "the key of profile \"\(profile)\" is for \(stored), but DEV_INFRA_API_URL names \(requested); it was not sent. "
                + "Set DEV_INFRA_API_KEY to a key for that server, or unset DEV_INFRA_API_URL."
        }
    }
}
