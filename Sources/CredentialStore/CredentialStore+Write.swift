import DevInfraCore

/// What `save` did, for the command to tell the user.
public struct SaveOutcome: Sendable, Equatable {
    public var storage: StorageKind
    /// The keyring schema or the file path.
    public var location: String
    /// Lines for stderr: which storage `auto` chose and why, leftovers that could not be removed.
    public var notes: [String]
}

extension CredentialStore {
    /// Stores `key` for `profile` and records the profile's storage and server in `config.yml`.
    ///
    /// Runs under the folder's lock from the first read to the last write. Both files are parsed
    /// before anything is written, so a corrupt file stops the save and is left as it was.
    public func save(_ key: APIKey, profile: String, apiURL: String?, preference: StoragePreference) throws(CredentialStoreError) -> SaveOutcome {
        try Posix.ensureDirectory(paths.directory)
        return try Posix.withExclusiveLock(paths.lock) { () throws(CredentialStoreError) -> SaveOutcome in
            Posix.removeLeftovers(in: paths.directory, of: ["config.yml", "credentials.yml"])
            var config = try loadConfig()
            var credentials = try loadCredentialsOrEmpty()
            let previous = try storage(of: profile, in: config)
            var url = try configuredURL(profile, in: config)
            if let apiURL { url = try Self.checkedURL(apiURL) }
            var outcome: SaveOutcome
            var absence: String?
            if preference != .file {
                absence = try saveInKeyring(key, profile: profile, server: url ?? "", preference: preference)
            }
            let storage: StorageKind = preference != .file && absence == nil ? .keyring : .file
            // config.yml first: it holds no secret. A crash between the two writes then leaves, at
            // worst, a profile whose server is known and whose key is the old one or none, never a
            // new key with no server (which would belong to the built-in default address).
            config.set("storage", to: storage.rawValue, of: profile)
            config.set("api_url", to: url, of: profile)
            try Posix.writeAtomically(try config.render(header: Self.configHeader), to: paths.config)
            if storage == .keyring {
                outcome = SaveOutcome(storage: .keyring, location: "Secret Service keyring (schema \(SecretServiceKeyring.schemaName))", notes: [])
                if preference == .auto { outcome.notes.append("stored the key in the Secret Service keyring") }
                if try credentials.field("api_key", of: profile) != nil {
                    credentials.set("api_key", to: nil, of: profile)
                    try Posix.writeAtomically(try credentials.render(header: Self.credentialsHeader), to: paths.credentials)
                }
            } else {
                credentials.set("api_key", to: key.rawValue, of: profile)
                try Posix.writeAtomically(try credentials.render(header: Self.credentialsHeader), to: paths.credentials)
                outcome = SaveOutcome(storage: .file, location: paths.credentials, notes: [])
                if let absence { outcome.notes.append("no keyring here: \(absence); stored the key in \(paths.credentials)") }
                if previous == .keyring {
                    do throws(KeyringFailure) { try keyring.delete(profile: profile) } catch {
                        outcome.notes.append("could not remove the old keyring item of profile \"\(profile)\": \(error.detail)")
                    }
                }
            }
            return outcome
        }
    }

    /// Stores in the keyring; returns why not when `auto` found no Secret Service at all. A keyring
    /// that exists but fails is an error naming `--storage file`, never a silent fall back to the file.
    private func saveInKeyring(_ key: APIKey, profile: String, server: String, preference: StoragePreference) throws(CredentialStoreError) -> String? {
        let hint = "Use --storage file to keep the key in \(paths.credentials) instead"
        do throws(KeyringFailure) {
            // Deleting first drops an item stored for another server, and tells whether a keyring exists.
            try keyring.delete(profile: profile)
            let label = "dev-infra API key (profile \(profile)\(server.isEmpty ? "" : ", \(server)"))"
            try keyring.store(key.rawValue, for: KeyringItem(profile: profile, server: server), label: label)
        } catch {
            if preference == .auto && error.meansAbsent { return error.detail }
            throw .keyring(error, operation: "store the key", hint: hint)
        }
        return nil
    }

    /// Removes the profile's key from wherever it is kept; the names of the places it was removed from.
    ///
    /// The server URL stays in `config.yml`, so the next `login` of the profile needs no `--api-url`.
    public func remove(profile: String) throws(CredentialStoreError) -> [String] {
        try remove(profiles: { _ in [profile] })
    }

    /// `logout --all`: every profile that either file names.
    public func removeAll() throws(CredentialStoreError) -> [String] {
        try remove(profiles: { names in names })
    }

    private func remove(profiles select: ([String]) -> [String]) throws(CredentialStoreError) -> [String] {
        guard Posix.exists(paths.config) || Posix.exists(paths.credentials) else { return [] }
        return try Posix.withExclusiveLock(paths.lock) { () throws(CredentialStoreError) -> [String] in
            Posix.removeLeftovers(in: paths.directory, of: ["config.yml", "credentials.yml"])
            var config = try loadConfig()
            var credentials = try loadCredentialsOrEmpty()
            let profiles = select(Array(Set(config.profileNames + credentials.profileNames)).sorted())
            var removed: [String] = []
            var keyringError: CredentialStoreError?
            for profile in profiles {
                if try credentials.field("api_key", of: profile) != nil {
                    credentials.set("api_key", to: nil, of: profile)
                    removed.append("profile \"\(profile)\": \(paths.credentials)")
                }
                if try storage(of: profile, in: config) == .keyring {
                    do throws(KeyringFailure) {
                        if try keyring.delete(profile: profile) { removed.append("profile \"\(profile)\": Secret Service keyring") }
                        config.set("storage", to: nil, of: profile)
                    } catch {
                        keyringError = .keyring(error, operation: "remove the key of profile \"\(profile)\"",
                                                hint: "Run logout again once the keyring answers, or remove it with: secret-tool clear application dev-infra profile \(profile)")
                    }
                } else {
                    config.set("storage", to: nil, of: profile)
                }
            }
            try Posix.writeAtomically(try credentials.render(header: Self.credentialsHeader), to: paths.credentials)
            try Posix.writeAtomically(try config.render(header: Self.configHeader), to: paths.config)
            if let keyringError { throw keyringError }
            return removed
        }
    }

    private func loadCredentialsOrEmpty() throws(CredentialStoreError) -> ProfileDocument {
        if let (document, _) = try loadCredentials() { return document }
        return try ProfileDocument(path: paths.credentials, text: "")
    }

    static let configHeader = "# dev-infra settings: profiles, server URLs, where each key is stored. No secrets here.\n"
    static let credentialsHeader = "# dev-infra API keys of the profiles that use file storage. Keep this file private (0600).\n"
}
