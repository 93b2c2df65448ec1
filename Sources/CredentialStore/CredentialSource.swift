import DevInfraCore

/// Where a profile keeps its key when it is not given by the environment.
public enum StorageKind: String, Sendable, CaseIterable {
    case keyring, file
}

/// What `login --storage` asks for; `auto` is resolved to a `StorageKind` and never downgrades silently.
public enum StoragePreference: String, Sendable, CaseIterable {
    case auto, keyring, file
}

/// Which link of the resolution chain supplied the key: what `status` reports.
public enum CredentialSource: Sendable, Equatable {
    case environment(variable: String)
    case environmentFile(path: String)
    case keyring(KeyringItem)
    case file(path: String, mode: UInt32)

    /// A stable word for `--json` output.
    public var name: String {
        switch self {
        case .environment: "env"
        case .environmentFile: "env_file"
        case .keyring: "keyring"
        case .file: "file"
        }
    }

    /// True for the links `dev-infra` writes (keyring and file), false for the environment's.
    public var isStored: Bool {
        switch self {
        case .keyring, .file: true
        case .environment, .environmentFile: false
        }
    }

    public var summary: String {
        switch self {
        case .environment(let variable): "environment variable \(variable)"
        case .environmentFile(let path): "file named by DEV_INFRA_API_KEY_FILE (\(path))"
        case .keyring: "Secret Service keyring (schema \(SecretServiceKeyring.schemaName))"
        case .file(let path, let mode): "file \(path) (mode \(Posix.octal(mode)))"
        }
    }
}

/// The winning key and where it came from, plus anything the user should hear about on the way.
public struct Resolution: Sendable {
    public var key: APIKey
    public var source: CredentialSource
    public var warnings: [String]
}

/// The server a profile talks to, and which setting named it.
public struct ResolvedServer: Sendable, Equatable {
    public enum Origin: String, Sendable { case environment = "env", config, builtIn = "default" }
    public var url: String
    public var origin: Origin

    public init(url: String, origin: Origin) {
        self.url = url
        self.origin = origin
    }
}
