import ArgumentParser
import DevInfraCore
import Foundation
import KeyServer
import Logging

/// `dev-infra-server`: the key-management API, on embedded SQLite or a shared PostgreSQL.
public struct ServerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dev-infra-server",
        abstract: "The dev-infra key-management server.",
        version: DevInfraVersion.current,
        subcommands: [Serve.self, Admin.self]
    )

    public init() {}

    /// Runs the command; a `DevInfraError` becomes one stderr line and its exit status.
    public static func runMain() async -> Never {
        do {
            var command = try parseAsRoot()
            if var async = command as? any AsyncParsableCommand { try await async.run() } else { try command.run() }
            Foundation.exit(0)
        } catch let error as any DevInfraError {
            FileHandle.standardError.write(Data("dev-infra-server: error: \(error.description)\n".utf8))
            Foundation.exit(error.reason == .invalidArgument ? 1 : error.exitStatus.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}

/// `--database URL` or `DEV_INFRA_DATABASE_URL`: `sqlite:PATH` (default
/// `$XDG_DATA_HOME/dev-infra/server.sqlite`), `postgres://USER@HOST:PORT/DB?sslmode=...`, or `memory:`.
struct DatabaseOption: ParsableArguments {
    @Option(help: ArgumentHelp("""
        The database: sqlite:PATH, postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|require|verify-full&sslrootcert=FILE] \
        or memory: (default: $DEV_INFRA_DATABASE_URL, else sqlite:$XDG_DATA_HOME/dev-infra/server.sqlite).
        """, valueName: "url"))
    var database: String?
    @Option(help: "PostgreSQL connections this process's pool may open (a server opens one more, to LISTEN).") var poolSize = 10

    func url(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let database { return database }
        if let url = environment["DEV_INFRA_DATABASE_URL"], !url.isEmpty { return url }
        let base = environment["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return "sqlite:" + base + "/dev-infra/server.sqlite"
    }

    func open(logger: Logger = Logger(label: "dev-infra-server")) throws -> StorageBackend {
        guard (1...1000).contains(poolSize) else { throw ValidationError("--pool-size must be 1 to 1000") }
        do { return try StorageBackend.open(url(), poolSize: poolSize, logger: logger) } catch let failure as StorageBackend.Failure {
            throw ValidationError(failure.description)
        }
    }

    /// Runs an admin action on the store, with its connections up for as long as it takes.
    func withAdministration<T: Sendable>(_ body: @escaping @Sendable (Administration) async throws -> T) async throws -> T {
        try await open().withRunning { repository in try await body(Administration(repository: repository)) }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API. Logs go to stderr.")

    @Option(help: "The address to listen on (loopback by default).") var host = "127.0.0.1"
    @Option(help: "The port; 0 picks a free one.") var port = 8080
    @OptionGroup var database: DatabaseOption
    @Option(help: "Requests per second allowed per key before 429.") var rateLimit: Double = 50
    @Option(help: "POST /v1/introspect calls per second allowed per verifying credential (a service's key) before 429.")
    var introspectionRateLimit: Double = 10_000
    @Option(help: "Sign-in attempts per minute per client address and per username, after a burst of 10.")
    var signInLimit: Double = 6
    @Option(help: "Seconds a connection may stay silent, and a request may take to arrive, before it is closed.")
    var readTimeout = 30
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"
    @Option(help: ArgumentHelp("Serve https with this certificate chain (PEM); reloaded on SIGHUP.", valueName: "file"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("The private key (PEM) of --tls-cert; reloaded with it.", valueName: "file"))
    var tlsKey: String?
    @Option(help: ArgumentHelp("""
        The server's 32-byte key (a 0600 file), shared by every replica: it signs sign-in tokens and seals retried answers. \
        Also $DEV_INFRA_SERVER_SECRET_FILE, or $DEV_INFRA_SERVER_SECRET (base64). Default for SQLite: beside the database.
        """, valueName: "file"))
    var secretFile: String?
    @Option(help: "Verified keys kept in memory (entries); 0 reads the database on every request.") var keyCacheSize = 100_000
    @Option(help: ArgumentHelp("Serve Prometheus /metrics on this port (on --metrics-host), apart from the API.", valueName: "port"))
    var metricsPort: Int?
    @Option(help: "The address of --metrics-port (loopback by default).") var metricsHost = "127.0.0.1"
    @Option(help: "Log lines as text, or json: one object a line.") var logFormat = "text"
    @Option(help: ArgumentHelp("""
        The address people reach this server at (https://keys.example.com) when a proxy is in front:         the device login's URLs use it, and session cookies are Secure when it is https.
        """, valueName: "url"))
    var publicURL: String?
    /// Debug builds only (the tests' binaries): a release build has no way to move its clock.
    @Option(help: .hidden) var testClockFile: String?

    func validate() throws {
        guard rateLimit > 0, rateLimit <= 1_000_000 else { throw ValidationError("--rate-limit must be more than 0 and at most 1000000") }
        guard introspectionRateLimit > 0, introspectionRateLimit <= 1_000_000 else {
            throw ValidationError("--introspection-rate-limit must be more than 0 and at most 1000000")
        }
        guard signInLimit > 0, signInLimit <= 1_000_000 else { throw ValidationError("--sign-in-limit must be more than 0 and at most 1000000") }
        guard (1...3600).contains(readTimeout) else { throw ValidationError("--read-timeout must be 1 to 3600 seconds") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard (0...10_000_000).contains(keyCacheSize) else { throw ValidationError("--key-cache-size must be 0 to 10000000") }
        if let publicURL {
            guard let url = URL(string: publicURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, url.query == nil,
                  url.path.isEmpty || url.path == "/" else {
                throw ValidationError("--public-url must be http(s)://host[:port], as browsers reach this server")
            }
        }
        if let metricsPort {
            guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port must be 0 to 65535") }
            guard metricsPort != port || metricsPort == 0 else { throw ValidationError("--metrics-port must differ from --port") }
        }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json") }
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown --log-level \(logLevel)") }
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.rateLimit = rateLimit
        configuration.limits.signInsPerMinute = signInLimit
        configuration.limits.perIntrospector = introspectionRateLimit
        configuration.idleTimeout = .seconds(readTimeout)
        configuration.requestReadTimeout = .seconds(readTimeout)
        if let tlsCert, let tlsKey { configuration.tls = (tlsCert, tlsKey) }
        #if DEBUG
        if let testClockFile { configuration.clock = { TestClock.now(offsetFile: testClockFile) } }
        #else
        if testClockFile != nil { throw ValidationError("--test-clock-file exists only in debug builds, for tests") }
        #endif
        configuration.logLevel = level
        configuration.keyCacheSize = keyCacheSize
        configuration.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        if let metricsPort { configuration.metrics = (metricsHost, metricsPort) }
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label -> any LogHandler in
            json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
        }
        let backend = try database.open()
        do { try backend.lockForServing() } catch let failure as StorageBackend.Failure { throw ValidationError(failure.description) }
        let secrets = try ServerSecrets.load(file: secretFile, environment: ProcessInfo.processInfo.environment,
                                             defaultPath: backend.defaultSecretsPath)
        let settings = configuration
        try await backend.withRunning { repository in
            try await buildApplication(settings, repository: repository, secrets: secrets).runService()
        }
    }
}

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operate on the database directly: the first admin, users, teams.",
        subcommands: [Bootstrap.self, UserCommand.self, TeamCommand.self]
    )

    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the first admin and print a one-time admin API key on stdout.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The admin user's name.") var name = "admin"

        func run() async throws {
            let name = name
            let key = try await database.withAdministration { try await $0.bootstrap(adminName: name) }
            print(key)
        }
    }

    struct UserCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self, Role.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a user; the password is read from stdin.")
            @Argument var name: String
            @Option(name: .customLong("team"), help: "A team the user belongs to (repeatable).") var teams: [String] = []
            @Option(name: .customLong("team-admin"), help: ArgumentHelp("A team the user administers: its integrations and keys (repeatable).", valueName: "team"))
            var teamAdmin: [String] = []
            @Flag(help: "Make the user an admin.") var admin = false
            @OptionGroup var database: DatabaseOption

            func run() async throws {
                var password = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                if password.hasSuffix("\n") { password.removeLast() }
                if password.hasSuffix("\r") { password.removeLast() }
                let (name, secret, teams, admin, teamAdmin) = (name, password, teams, admin, teamAdmin)
                try await database.withAdministration { try await $0.addUser(name, password: secret, teams: teams, admin: admin, teamAdmin: teamAdmin) }
                FileHandle.standardError.write(Data("added user \(name)\n".utf8))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List users.")
            @OptionGroup var database: DatabaseOption

            func run() async throws {
                for user in try await database.withAdministration({ try await $0.users() }) {
                    let kind = user.kind == .integration ? "integration" : user.isAdmin ? "admin" : "user"
                    let teams = user.teams.map { user.adminTeams.contains($0) ? "\($0)(admin)" : $0 }
                    print("\(user.name)\t\(kind)\t\(teams.joined(separator: ","))\(user.disabledAt == nil ? "" : "\tdisabled")")
                }
            }
        }

        struct Role: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set a user's role in a team: admin (manages its integrations and keys) or member.")
            @Argument var name: String
            @Option(help: "The team.") var team: String
            @Option(help: "admin or member.") var role: String
            @OptionGroup var database: DatabaseOption

            func validate() throws {
                if TeamRole(rawValue: role) == nil { throw ValidationError("--role must be admin or member") }
            }

            func run() async throws {
                let (name, team, role) = (name, team, TeamRole(rawValue: role) ?? .member)
                try await database.withAdministration { try await $0.setRole(name, team: team, role: role) }
                FileHandle.standardError.write(Data("\(name) is now \(role.rawValue) of team \(team)\n".utf8))
            }
        }
    }

    struct TeamCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "team", abstract: "Manage teams.", subcommands: [Add.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a team.")
            @Argument var name: String
            @OptionGroup var database: DatabaseOption

            func run() async throws {
                let name = name
                try await database.withAdministration { try await $0.addTeam(name) }
                FileHandle.standardError.write(Data("added team \(name)\n".utf8))
            }
        }
    }
}

/// For tests of the binary: the time is the real time plus the number of seconds written in a
/// file, so a test moves the server past a grace period by writing to it instead of sleeping.
enum TestClock {
    static func now(offsetFile: String) -> Date {
        let text = (try? String(contentsOfFile: offsetFile, encoding: .utf8)) ?? ""
        let offset = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return Date().addingTimeInterval(offset.isFinite ? max(-1e9, min(1e9, offset)) : 0)
    }
}
