import Foundation
@testable import KeyServer

/// Which store the server tests run on: SQLite, unless `DEV_INFRA_TEST_POSTGRES_URL` names a
/// PostgreSQL server (scripts/start-postgres.sh starts one), when every server test runs on
/// PostgreSQL instead, each in a database of its own. scripts/test.sh runs the suite both ways.
enum TestBackend {
    static let postgresURL = ProcessInfo.processInfo.environment["DEV_INFRA_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static var isPostgres: Bool { postgresURL != nil }
    static var isSQLite: Bool { !isPostgres }

    /// A new, empty database: a file in `folder`, or a database created for it on the test PostgreSQL.
    static func freshURL(folder: String) throws -> String {
        guard let postgresURL else { return "sqlite:\(folder)/server.sqlite" }
        return try createDatabase(on: postgresURL)
    }

    /// `CREATE DATABASE` through psql; returns the URL of the new database.
    static func createDatabase(on serverURL: String) throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [serverURL, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CreateFailed(url: serverURL) }
        guard var parts = URLComponents(string: serverURL) else { throw CreateFailed(url: serverURL) }
        parts.path = "/" + name
        return parts.string ?? serverURL
    }

    struct CreateFailed: Error, CustomStringConvertible {
        let url: String
        var description: String { "psql could not create a database on \(url)" }
    }
}
