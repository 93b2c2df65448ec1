import ArgumentParser
import DevInfraCore
import Foundation
import KeyServer
import Logging

/// `dev-infra-server`: the key-management API on embedded SQLite.
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

/// `--database sqlite:PATH`, default `$XDG_DATA_HOME/dev-infra/server.sqlite`.
struct DatabaseOption: ParsableArguments {
    @Option(help: ArgumentHelp("The database, as sqlite:PATH (default: $XDG_DATA_HOME/dev-infra/server.sqlite).", valueName: "url"))
    var database: String?

    func path() throws -> String {
        guard let database else {
            let env = ProcessInfo.processInfo.environment
            let base = env["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
                ?? (env["HOME"] ?? NSHomeDirectory()) + "/.local/share"
            return base + "/dev-infra/server.sqlite"
        }
        guard database.hasPrefix("sqlite:"), database.count > "sqlite:".count else {
            throw ValidationError("--database must be sqlite:PATH, as in sqlite:/var/lib/dev-infra/server.sqlite")
        }
        return String(database.dropFirst("sqlite:".count))
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API. Logs go to stderr.")

    @Option(help: "The address to listen on (loopback by default).") var host = "127.0.0.1"
    @Option(help: "The port; 0 picks a free one.") var port = 8080
    @OptionGroup var database: DatabaseOption
    @Option(help: "Requests per second allowed per key before 429.") var rateLimit: Double = 50
    @Option(help: "Sign-in attempts per minute per client address and per username, after a burst of 10.")
    var signInLimit: Double = 6
    @Option(help: "Seconds a connection may stay silent, and a request may take to arrive, before it is closed.")
    var readTimeout = 30
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"
    @Option(help: ArgumentHelp("Serve https with this certificate chain (PEM); reloaded on SIGHUP.", valueName: "file"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("The private key (PEM) of --tls-cert; reloaded with it.", valueName: "file"))
    var tlsKey: String?
    /// Debug builds only (the tests' binaries): a release build has no way to move its clock.
    @Option(help: .hidden) var testClockFile: String?

    func validate() throws {
        guard rateLimit > 0, rateLimit <= 1_000_000 else { throw ValidationError("--rate-limit must be more than 0 and at most 1000000") }
        guard signInLimit > 0, signInLimit <= 1_000_000 else { throw ValidationError("--sign-in-limit must be more than 0 and at most 1000000") }
        guard (1...3600).contains(readTimeout) else { throw ValidationError("--read-timeout must be 1 to 3600 seconds") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown --log-level \(logLevel)") }
        var configuration = ServerConfiguration(databasePath: try database.path())
        configuration.host = host
        configuration.port = port
        configuration.rateLimit = rateLimit
        configuration.limits.signInsPerMinute = signInLimit
        configuration.idleTimeout = .seconds(readTimeout)
        configuration.requestReadTimeout = .seconds(readTimeout)
        if let tlsCert, let tlsKey { configuration.tls = (tlsCert, tlsKey) }
        #if DEBUG
        if let testClockFile { configuration.clock = { TestClock.now(offsetFile: testClockFile) } }
        #else
        if testClockFile != nil { throw ValidationError("--test-clock-file exists only in debug builds, for tests") }
        #endif
        configuration.logLevel = level
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        try await buildApplication(configuration).runService()
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
            let key = try await Administration(databasePath: try database.path()).bootstrap(adminName: name)
            print(key)
        }
    }

    struct UserCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a user; the password is read from stdin.")
            @Argument var name: String
            @Option(name: .customLong("team"), help: "A team the user belongs to (repeatable).") var teams: [String] = []
            @Flag(help: "Make the user an admin.") var admin = false
            @OptionGroup var database: DatabaseOption

            func run() async throws {
                var password = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                if password.hasSuffix("\n") { password.removeLast() }
                if password.hasSuffix("\r") { password.removeLast() }
                try await Administration(databasePath: try database.path()).addUser(name, password: password, teams: teams, admin: admin)
                FileHandle.standardError.write(Data("added user \(name)\n".utf8))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List users.")
            @OptionGroup var database: DatabaseOption

            func run() async throws {
                for user in try await Administration(databasePath: try database.path()).users() {
                    print("\(user.name)\t\(user.isAdmin ? "admin" : "user")\t\(user.teams.joined(separator: ","))")
                }
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
                try await Administration(databasePath: try database.path()).addTeam(name)
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
