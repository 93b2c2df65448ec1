#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the client keeps its files: `$XDG_CONFIG_HOME/dev-infra/`, default `~/.config/dev-infra/`.
/// An empty or relative `XDG_CONFIG_HOME` is ignored, as the XDG Base Directory spec requires.
public struct ConfigPaths: Sendable, Equatable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public init(environment: [String: String]) {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            directory = Self.join(xdg, "dev-infra")
        } else {
            directory = Self.join(Self.join(Self.home(environment), ".config"), "dev-infra")
        }
    }

    /// Non-secret settings: profiles, server URLs, which storage each profile uses.
    public var config: String { Self.join(directory, "config.yml") }
    /// Keys of profiles that use file storage.
    public var credentials: String { Self.join(directory, "credentials.yml") }
    /// Held while either file is rewritten.
    public var lock: String { Self.join(directory, ".lock") }

    static func home(_ environment: [String: String]) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    static func join(_ base: String, _ name: String) -> String {
        base.hasSuffix("/") ? base + name : base + "/" + name
    }
}
