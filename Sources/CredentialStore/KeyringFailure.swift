import DevInfraCore

/// How a Secret Service keyring call failed. The first three mean "there is no keyring here"
/// (headless machine, CI); the others mean "there is one, and it is broken or locked", which must
/// never be silently downgraded to file storage.
public enum KeyringFailure: Error, Equatable, Sendable {
    case libraryMissing(String)
    case noSessionBus(String)
    case noSecretService(String)
    case timedOut(seconds: Double)
    /// The item is there, in a collection that is locked and could not be unlocked (no prompt
    /// can be shown on a headless machine).
    case locked(String)
    case failed(String)

    /// True when no Secret Service exists at all, so `--storage auto` may choose the file.
    public var meansAbsent: Bool {
        switch self {
        case .libraryMissing, .noSessionBus, .noSecretService: true
        case .timedOut, .locked, .failed: false
        }
    }

    public var reason: ReasonCode {
        switch self {
        case .libraryMissing, .noSessionBus, .noSecretService: .keyringUnavailable
        case .timedOut: .keyringTimeout
        case .locked: .keyringLocked
        case .failed: .keyringFailed
        }
    }

    public var detail: String {
        switch self {
        case .libraryMissing(let why): "libsecret is not installed (\(why))"
        case .noSessionBus(let why): "no D-Bus session bus (\(why))"
        case .noSecretService(let why): "no Secret Service is running on the session bus (\(why))"
        case .timedOut(let seconds): "the Secret Service did not answer within \(Self.format(seconds)) s (DEV_INFRA_KEYRING_TIMEOUT sets the bound)"
        case .locked(let why): "the key is in a locked keyring collection that could not be unlocked (\(why)); unlock the keyring (on a desktop, log in to the session; headless, `gnome-keyring-daemon --unlock` reads the password from stdin)"
        case .failed(let why): why
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

/// Where a profile's key is kept in a keyring: attributes that namespace the item.
public struct KeyringItem: Sendable, Hashable {
    public var profile: String
    public var server: String

    public init(profile: String, server: String) {
        self.profile = profile
        self.server = server
    }
}

/// A keyring the store can use. The live one is the Secret Service; tests may pass their own.
public protocol Keyring: Sendable {
    func read(_ item: KeyringItem) throws(KeyringFailure) -> String?
    func store(_ secret: String, for item: KeyringItem, label: String) throws(KeyringFailure)
    /// Removes every item of the profile, whatever its server; true when there was one.
    @discardableResult
    func delete(profile: String) throws(KeyringFailure) -> Bool
}
