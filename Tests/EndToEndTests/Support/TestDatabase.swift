import Foundation

/// Which store the server binaries under test use: SQLite, unless `DEV_INFRA_TEST_POSTGRES_URL`
/// names a PostgreSQL server, when each server gets a database of its own there (scripts/test.sh
/// runs the server suites both ways; the replica tests need PostgreSQL and skip without it).
enum TestDatabase {
    static let postgresURL = ProcessInfo.processInfo.environment["DEV_INFRA_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static var isPostgres: Bool { postgresURL != nil }

    static func freshURL(folder: String) throws -> String {
        guard let postgresURL else { return "sqlite:\(folder)/server.sqlite" }
        return try createDatabase(on: postgresURL)
    }

    /// `CREATE DATABASE` through psql; returns the new database's URL.
    static func createDatabase(on serverURL: String) throws -> String {
        let name = "e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let result = try Run.process("/usr/bin/psql", [serverURL, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"],
                                     environment: ["PATH": "/usr/bin:/bin"])
        guard result.status == 0, var parts = URLComponents(string: serverURL) else {
            throw Failed(description: "psql could not create a database: \(result.stderr)")
        }
        parts.path = "/" + name
        return parts.string ?? serverURL
    }

    /// Runs SQL on a database with psql: what a DBA (or a test playing one) does behind the server's back.
    @discardableResult
    static func sql(_ url: String, _ statement: String) throws -> String {
        let result = try Run.process("/usr/bin/psql", [url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", statement], environment: ["PATH": "/usr/bin:/bin"])
        guard result.status == 0 else { throw Failed(description: "psql failed: \(result.stderr)") }
        return result.stdout
    }

    /// Everything the database holds, as text: the SQLite files, or a pg_dump.
    static func dump(_ url: String) throws -> String {
        if url.hasPrefix("sqlite:") {
            let path = String(url.dropFirst("sqlite:".count))
            var stored = Data()
            for suffix in ["", "-wal", "-shm"] { stored += FileManager.default.contents(atPath: path + suffix) ?? Data() }
            return String(decoding: stored, as: UTF8.self)
        }
        let result = try Run.process("/usr/bin/pg_dump", [url], environment: ["PATH": "/usr/bin:/bin"])
        guard result.status == 0 else { throw Failed(description: "pg_dump failed: \(result.stderr)") }
        return result.stdout
    }

    /// A 32-byte server key file, 0600, as `--secret-file` takes (one file for all replicas).
    static func secretFile(in folder: String) throws -> String {
        let path = folder + "/server-secret.key"
        if !FileManager.default.fileExists(atPath: path) {
            var bytes = [UInt8](repeating: 0, count: 32)
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
                throw Failed(description: "cannot write \(path)")
            }
        }
        return path
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }
}
