import ArgumentParser
import CredentialStore
import DevInfraClient
import DevInfraCore
import Foundation

/// `--profile` and `--verbose`, for every command that talks to the server.
struct RemoteOptions: ParsableArguments {
    @OptionGroup var profile: ProfileOptions

    @Flag(name: .shortAndLong, help: "Show each request and answer on stderr, the credential masked.")
    var verbose = false
}

/// What a remote command needs: the profile, its store, the server, and (usually) the key.
struct Session {
    let context: CommandContext
    let profile: String
    let store: CredentialStore
    let server: ResolvedServer
    let credential: Resolution?
    let verbose: Bool

    /// Resolves everything up front; with `requireCredential`, no key is an error before any request.
    init(_ options: RemoteOptions, _ context: CommandContext, requireCredential: Bool = true, apiURL: String? = nil) throws {
        try self.init(profile: options.profile, verbose: options.verbose, context, requireCredential: requireCredential, apiURL: apiURL)
    }

    /// The same for a command with `--profile` only (`exec --oidc`).
    init(profile profileOptions: ProfileOptions, verbose: Bool, _ context: CommandContext, requireCredential: Bool = true,
         apiURL: String? = nil) throws {
        self.context = context
        profile = try profileOptions.resolve(in: context)
        store = try context.store()
        if let apiURL {
            server = ResolvedServer(url: try CredentialStore.validatedURL(apiURL), origin: .config)
        } else {
            server = try store.server(profile: profile)
        }
        credential = requireCredential ? try store.resolve(profile: profile) : nil
        if let credential { try store.checkDestination(of: credential, to: server, profile: profile) }
        credential?.warnings.forEach(context.note)
        self.verbose = verbose
    }

    /// Runs `body` against the server with `key` (default: the resolved credential).
    func api<T: Sendable>(key: String? = nil, _ body: (DevInfraAPI) async throws -> T) async throws -> T {
        var options = httpOptions()
        options.caCertificatePath = try store.caCertificate(profile: profile)
        return try await DevInfraAPI.with(serverURL: server.url, credential: key ?? credential?.key.rawValue, options: options, body)
    }

    /// Runs `body` against the server with no credential at all (`POST /v1/auth/oidc`).
    func anonymousAPI<T: Sendable>(_ body: (DevInfraAPI) async throws -> T) async throws -> T {
        var options = httpOptions()
        options.caCertificatePath = try store.caCertificate(profile: profile)
        return try await DevInfraAPI.with(serverURL: server.url, credential: nil, options: options, body)
    }

    /// Timeouts from DEV_INFRA_HTTP_TIMEOUT and `--verbose`, for any HTTP request a command makes.
    func httpOptions() -> DevInfraAPI.Options {
        var options = DevInfraAPI.Options()
        // Bounded: an absurd value (1e300, inf) would trap in the conversion to nanoseconds.
        if let seconds = context.environment["DEV_INFRA_HTTP_TIMEOUT"].flatMap(Double.init), seconds > 0, seconds <= 3600 {
            options.requestTimeout = seconds
            options.connectTimeout = min(options.connectTimeout, seconds)
        }
        if verbose { options.verbose = { [context] line in context.stderr(line + "\n") } }
        return options
    }
}

/// JSON for `--json`: the API's own objects, keys sorted, dates ISO 8601.
enum JSONOutput {
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self) + "\n"
    }

    /// With `--json`, a failure is also a JSON object on stdout, so a script parsing stdout sees it.
    static func reportingErrors<T>(_ json: Bool, _ context: CommandContext, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as any DevInfraError where json {
            context.stdout(encode(["error": ErrorObject(code: error.code, message: error.message, exitStatus: error.exitStatus.rawValue)]))
            throw error
        }
    }

    /// `{"error": {...}}`: field names are a contract for scripts.
    struct ErrorObject: Encodable {
        var code: String
        var message: String
        var exitStatus: Int32
        enum CodingKeys: String, CodingKey { case code, message, exitStatus = "exit_status" }
    }
}

/// Dates for humans: `2026-11-26`, and relative where that reads better.
enum When {
    static func day(_ date: Date?) -> String {
        guard let date else { return "-" }
        return String(ISO8601DateFormatter().string(from: date).prefix(10))
    }

    static func relative(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "never" }
        let seconds = date.timeIntervalSince(now)
        let magnitude = abs(seconds)
        if magnitude < 60 { return "now" }
        let text = magnitude < 3600 ? "\(Int((magnitude / 60).rounded()))m"
            : magnitude < 86400 ? "\(Int((magnitude / 3600).rounded()))h" : "\(Int((magnitude / 86400).rounded()))d"
        return seconds >= 0 ? "in \(text)" : "\(text) ago"
    }

    /// Keys that stop working within a week deserve a warning.
    static func expiresSoon(_ date: Date?, now: Date = Date()) -> Bool {
        guard let date else { return false }
        return date > now && date.timeIntervalSince(now) < 7 * 86400
    }
}
