import DevInfraCore
#if canImport(Glibc)
import Glibc
#endif

/// The client's credential chain: `DEV_INFRA_API_KEY` / `DEV_INFRA_API_KEY_FILE`, then the profile's
/// keyring entry (only when its config says `storage: keyring`), then its entry in `credentials.yml`.
///
/// Reads take no lock (writes replace files by rename, so a reader sees a whole file). Nothing here
/// touches libsecret unless a profile stores its key there, so `token` from env or file stays cheap.
public struct CredentialStore: Sendable {
    public static let keyVariable = "DEV_INFRA_API_KEY"
    public static let keyFileVariable = "DEV_INFRA_API_KEY_FILE"
    public static let urlVariable = "DEV_INFRA_API_URL"
    public static let profileVariable = "DEV_INFRA_PROFILE"
    public static let keyringTimeoutVariable = "DEV_INFRA_KEYRING_TIMEOUT"
    public static let caVariable = "DEV_INFRA_CA_CERT"
    public static let defaultProfile = "default"

    public let environment: [String: String]
    public let paths: ConfigPaths
    public let keyring: any Keyring

    public init(environment: [String: String], paths: ConfigPaths? = nil, keyring: (any Keyring)? = nil) throws(CredentialStoreError) {
        self.environment = environment
        self.paths = paths ?? ConfigPaths(environment: environment)
        if let keyring {
            self.keyring = keyring
        } else {
            self.keyring = SecretServiceKeyring(timeout: try Self.keyringTimeout(environment))
        }
    }

    /// `DEV_INFRA_KEYRING_TIMEOUT` in seconds, default 2.
    static func keyringTimeout(_ environment: [String: String]) throws(CredentialStoreError) -> Double {
        guard let text = environment[keyringTimeoutVariable], !text.isEmpty else { return 2 }
        guard let seconds = Double(text), seconds > 0, seconds <= 120 else {
            throw .invalidSetting(variable: keyringTimeoutVariable, problem: "\"\(text)\" is not a number of seconds between 0 and 120")
        }
        return seconds
    }

    /// `--profile`, else `DEV_INFRA_PROFILE`, else `default`; checked so it is safe as a YAML key and keyring attribute.
    public static func profileName(flag: String?, environment: [String: String]) throws(CredentialStoreError) -> String {
        let name = flag ?? environment[profileVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultProfile
        let allowed = name.utf8.allSatisfy { Base62.value(of: $0) != nil || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else { throw .invalidProfileName(name) }
        return name
    }

    // MARK: Reading

    /// The key the chain resolves to; `noCredential` when no link has one.
    public func resolve(profile: String) throws(CredentialStoreError) -> Resolution {
        if let fromEnvironment = try environmentKey() { return fromEnvironment }
        let config = try loadConfig()
        var warnings: [String] = []
        var keyringFailure: CredentialStoreError?
        if try storage(of: profile, in: config) == .keyring {
            let item = KeyringItem(profile: profile, server: try configuredURL(profile, in: config) ?? "")
            do throws(KeyringFailure) {
                if let key = try keyringKey(item) {
                    return Resolution(key: key, source: .keyring(item), warnings: warnings)
                }
            } catch {
                let error = CredentialStoreError.keyring(error, operation: "read the key of profile \"\(profile)\"", hint: nil)
                warnings.append("\(error.message); trying \(paths.credentials)")
                keyringFailure = error
            }
        }
        if let (key, mode) = try fileKey(profile: profile) {
            return Resolution(key: key, source: .file(path: paths.credentials, mode: mode), warnings: warnings)
        }
        throw keyringFailure ?? .noCredential(profile: profile)
    }

    /// The server URL: `DEV_INFRA_API_URL`, else the profile's `api_url`, else the built-in default.
    public func server(profile: String) throws(CredentialStoreError) -> ResolvedServer {
        if let url = environment[Self.urlVariable], !url.isEmpty {
            return ResolvedServer(url: try Self.checkedURL(url), origin: .environment)
        }
        if let url = try configuredURL(profile, in: try loadConfig()) {
            return ResolvedServer(url: url, origin: .config)
        }
        return ResolvedServer(url: ServerURL.defaultValue, origin: .builtIn)
    }

    /// The server a stored key of `profile` belongs to: its `api_url`, else the default; never the environment's.
    public func profileServer(profile: String) throws(CredentialStoreError) -> String {
        try configuredURL(profile, in: try loadConfig()) ?? ServerURL.defaultValue
    }

    /// Refuses to send a stored key to a server other than its profile's: `DEV_INFRA_API_URL`
    /// pointing elsewhere would otherwise hand the key to whatever it names. A key from the
    /// environment goes where the environment says.
    public func checkDestination(of resolution: Resolution, to server: ResolvedServer, profile: String) throws(CredentialStoreError) {
        guard resolution.source.isStored, server.origin == .environment else { return }
        let own = try profileServer(profile: profile)
        guard own.lowercased() != server.url.lowercased() else { return }
        throw .serverMismatch(profile: profile, stored: own, requested: server.url)
    }

    /// A private CA to trust besides the system's: `DEV_INFRA_CA_CERT`, else the profile's
    /// `ca_cert` setting (an absolute path to PEM certificates). Nothing ever turns checks off.
    public func caCertificate(profile: String) throws(CredentialStoreError) -> String? {
        if let path = environment[Self.caVariable], !path.isEmpty { return path }
        guard let (path, line) = try loadConfig().field("ca_cert", of: profile) else { return nil }
        guard path.hasPrefix("/") else {
            throw .fileCorrupt(path: paths.config, line: line, column: nil, problem: "ca_cert of profile \"\(profile)\" must be an absolute path")
        }
        return path
    }

    /// The storage a profile's config names, if any.
    public func storage(of profile: String) throws(CredentialStoreError) -> StorageKind? {
        try storage(of: profile, in: loadConfig())
    }

    /// `text` checked as a server URL (https, or http to loopback), without a trailing slash.
    public static func validatedURL(_ text: String) throws(CredentialStoreError) -> String {
        try checkedURL(text)
    }

    static func checkedURL(_ text: String) throws(CredentialStoreError) -> String {
        switch ServerURL.validate(text) {
        case .success(let url): return url
        case .failure(let error): throw .invalidURL(text, problem: error.message)
        }
    }

    func environmentKey() throws(CredentialStoreError) -> Resolution? {
        if let text = environment[Self.keyVariable], !text.isEmpty {
            do {
                return Resolution(key: try APIKey.parse(text), source: .environment(variable: Self.keyVariable), warnings: [])
            } catch {
                throw .malformedEnvironmentKey(variable: Self.keyVariable, error)
            }
        }
        guard let path = environment[Self.keyFileVariable], !path.isEmpty else { return nil }
        guard let contents = try Posix.read(path) else {
            throw .fileUnreadable(path: path, detail: "\(Self.keyFileVariable) names it, but it does not exist")
        }
        do {
            return Resolution(key: try APIKey.parse(contents.text), source: .environmentFile(path: path), warnings: [])
        } catch {
            throw .malformedEnvironmentKey(variable: "the file named by \(Self.keyFileVariable) (\(path))", error)
        }
    }

    func keyringKey(_ item: KeyringItem) throws(KeyringFailure) -> APIKey? {
        guard let text = try keyring.read(item) else { return nil }
        guard let key = try? APIKey.parse(text) else {
            throw .failed("the item of profile \"\(item.profile)\" does not hold a valid key; log in again to replace it")
        }
        return key
    }

    /// config.yml names the server a key is sent to and the CA trusted for it: refused when another
    /// user owns it or group or others can write it, since they could redirect the key.
    func loadConfig() throws(CredentialStoreError) -> ProfileDocument {
        guard let contents = try Posix.read(paths.config) else { return try ProfileDocument(path: paths.config, text: "") }
        try Self.checkOwner(contents, paths.config)
        if contents.mode & 0o022 != 0 { throw .filePermissions(path: paths.config, mode: UInt32(contents.mode)) }
        return try ProfileDocument(path: paths.config, text: contents.text)
    }

    /// The credentials file, refused (as ssh does) when group or others can read it, or another user owns it.
    func loadCredentials() throws(CredentialStoreError) -> (ProfileDocument, mode: UInt32)? {
        guard let contents = try Posix.read(paths.credentials) else { return nil }
        try Self.checkOwner(contents, paths.credentials)
        if contents.mode & 0o077 != 0 { throw .filePermissions(path: paths.credentials, mode: UInt32(contents.mode)) }
        return (try ProfileDocument(path: paths.credentials, text: contents.text), UInt32(contents.mode))
    }

    static func checkOwner(_ contents: Posix.FileContents, _ path: String) throws(CredentialStoreError) {
        guard contents.owner == getuid() else {
            throw .fileUnreadable(path: path, detail: "it belongs to another user (uid \(contents.owner)), so it could have been changed by them")
        }
    }

    func fileKey(profile: String) throws(CredentialStoreError) -> (APIKey, UInt32)? {
        guard let (document, mode) = try loadCredentials(),
              let (text, line) = try document.field("api_key", of: profile) else { return nil }
        do {
            return (try APIKey.parse(text), mode)
        } catch {
            throw .fileCorrupt(path: paths.credentials, line: line, column: nil,
                               problem: "the api_key of profile \"\(profile)\" is not a valid key: \(error.detail)")
        }
    }

    func storage(of profile: String, in config: ProfileDocument) throws(CredentialStoreError) -> StorageKind? {
        guard let (text, line) = try config.field("storage", of: profile) else { return nil }
        guard let kind = StorageKind(rawValue: text) else {
            throw .fileCorrupt(path: paths.config, line: line, column: nil,
                               problem: "storage of profile \"\(profile)\" is \"\(text)\"; it must be keyring or file")
        }
        return kind
    }

    func configuredURL(_ profile: String, in config: ProfileDocument) throws(CredentialStoreError) -> String? {
        guard let (text, line) = try config.field("api_url", of: profile) else { return nil }
        switch ServerURL.validate(text) {
        case .success(let url): return url
        case .failure(let error):
            throw .fileCorrupt(path: paths.config, line: line, column: nil, problem: error.message)
        }
    }
}
