import DevInfraCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The real `dev-infra-server` binary: its admin commands, and no secret in its log or database.
@Suite struct ServerBinaryTests {
    let sandbox = Sandbox()

    @Test func bootstrapOnceThenRefuse() throws {
        let server = try ServerProcess(folder: sandbox.root + "/server")
        defer { server.stop() }
        let first = try server.admin(["admin", "bootstrap"])
        #expect(first.status == 0)
        let key = try APIKey.parse(first.stdout)
        #expect(first.stdout == key.rawValue + "\n", "stdout holds the key and nothing else")
        let second = try server.admin(["admin", "bootstrap"])
        #expect(second.status == 1)
        #expect(second.stderr.contains("an admin already exists"))
        #expect(second.stdout.isEmpty)
        #expect(try server.admin(["admin", "user", "add", "carol", "--team", "nope"], stdin: "long-password\n").status == 1)
        #expect(try server.admin(["admin", "team", "add", "web"]).status == 0)
        #expect(try server.admin(["admin", "user", "add", "carol", "--team", "web"], stdin: "long-password\n").status == 0)
        #expect(try server.admin(["admin", "user", "list"]).stdout.contains("carol\tuser\tweb"))
        let (status, me) = try server.request("GET", "/v1/whoami", key: key.rawValue)
        #expect(status == 200 && me["user"] as? String == "admin")
        let wrongDatabase = try Run.process(Run.builtProduct("dev-infra-server"), ["admin", "bootstrap", "--database", "mysql://x"], environment: [:])
        #expect(wrongDatabase.status == 64)
        #expect(wrongDatabase.stderr.contains("sqlite:PATH"))
    }

    /// A second server on one SQLite file is refused: its key cache would not hear the first's revocations.
    @Test(.enabled(if: !TestDatabase.isPostgres, "SQLite only")) func oneServerPerSQLiteFile() throws {
        let server = try ServerProcess(folder: sandbox.root + "/server")
        defer { server.stop() }
        do {
            let second = try ServerProcess(folder: sandbox.root + "/second", database: server.database, secretFile: server.secretFile)
            second.stop()
            Issue.record("a second server started on \(server.database)")
        } catch let failed as ServerProcess.ServerFailed {
            #expect(failed.log.contains("another dev-infra-server serves"), "\(failed.log)")
        }
        server.stop()
        let after = try ServerProcess(folder: sandbox.root + "/third", database: server.database, secretFile: server.secretFile)
        after.stop()
    }

    @Test func noSecretReachesTheLogOrTheDatabase() throws {
        let server = try ServerProcess(folder: sandbox.root + "/server", arguments: ["--log-level", "trace"])
        let admin = try #require(try server.admin(["admin", "bootstrap"]).stdout.split(separator: "\n").first.map(String.init))
        _ = try server.admin(["admin", "team", "add", "web"])
        let password = "correct-horse-battery"
        _ = try server.admin(["admin", "user", "add", "dana", "--team", "web"], stdin: password)
        var issued = [admin]
        for index in 0..<5 {
            let (status, created) = try server.request("POST", "/v1/keys", key: admin,
                                                       body: #"{"name":"k\#(index)","scopes":["keys:read","keys:write"],"team":"web"}"#)
            #expect(status == 201)
            issued.append(try #require(created["api_key"] as? String))
        }
        let (_, token) = try server.request("POST", "/v1/auth/token", body: #"{"username":"dana","password":"\#(password)"}"#)
        let jwt = try #require(token["access_token"] as? String)
        let (_, minted) = try server.request("POST", "/v1/keys", key: jwt, body: #"{"name":"mine","scopes":["keys:read"]}"#)
        issued.append(try #require(minted["api_key"] as? String))
        let rotating = try APIKey.parse(issued[1])
        let (rotateStatus, rotated) = try server.request("POST", "/v1/keys/\(rotating.keyID)/rotate", key: admin)
        #expect(rotateStatus == 201, "\(rotated)")
        issued.append(try #require(rotated["api_key"] as? String))
        _ = try server.request("DELETE", "/v1/keys/\(try APIKey.parse(issued[2]).keyID)", key: admin)
        for key in issued { _ = try server.request("GET", "/v1/whoami", key: key) }
        // Rejected credentials are logged and audited too: by key id only.
        let forged = APIKey(keyID: rotating.keyID, secret: APIKey.generate().secret).rawValue
        #expect(try server.request("GET", "/v1/whoami", key: forged).0 == 401)
        server.stop()

        let log = try String(contentsOfFile: server.logPath, encoding: .utf8)
        #expect(log.contains("debug") || log.contains("trace"), "the log ran at debug level")
        let storedText = try TestDatabase.dump(server.database)
        for raw in issued + [forged] {
            let secret = try APIKey.parse(raw).secret
            #expect(!log.contains(secret), "a secret reached the log")
            #expect(!storedText.contains(secret), "a secret reached the database")
        }
        #expect(!log.contains(password) && !storedText.contains(password))
        #expect(!log.contains(jwt))
        #expect(storedText.contains(rotating.keyID), "key ids are stored, so the search above can find text")
    }

    /// The races of the trust review, against the real binary with requests really in flight
    /// together (each on its own connection): one `Idempotency-Key` sent eight times at once
    /// mints one key, and six rotations of one key leave one successor.
    @Test func concurrentRetriesAndRotationsAgainstTheBinary() throws {
        let server = try ServerProcess(folder: sandbox.root + "/server", arguments: ["--rate-limit", "100000"])
        defer { server.stop() }
        let admin = try #require(try server.admin(["admin", "bootstrap"]).stdout.split(separator: "\n").first.map(String.init))
        /// Starts `count` curl processes at once (each its own connection), then collects their answers.
        func together(_ count: Int, _ method: String, _ path: String, body: String?, headers: [String: String] = [:]) throws -> [(Int, [String: Any])] {
            var arguments = ["-s", "-m", "20", "-X", method, "-H", "Authorization: Bearer \(admin)", "-w", "\n%{http_code}"]
            for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
            if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
            arguments.append(server.url + path)
            let runs = try (0..<count).map { _ in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                process.arguments = arguments
                let out = Pipe()
                process.standardOutput = out
                try process.run()
                return (process, out)
            }
            return runs.map { process, out in
                let data = out.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                let text = String(decoding: data, as: UTF8.self)
                let status = Int(text.split(separator: "\n").last ?? "") ?? 0
                let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8.dropLast(4)))) as? [String: Any] ?? [:]
                return (status, json)
            }
        }
        func send(_ method: String, _ path: String, body: String?) throws -> (Int, [String: Any]) { try together(1, method, path, body: body)[0] }
        let creates = try together(8, "POST", "/v1/keys", body: #"{"name":"once","scopes":["keys:read"]}"#, headers: ["Idempotency-Key": "one"])
        #expect(creates.allSatisfy { $0.0 == 201 }, "\(creates.map(\.0))")
        #expect(Set(creates.compactMap { $0.1["api_key"] as? String }).count == 1)
        let (_, created) = try send("POST", "/v1/keys", body: #"{"name":"hot","scopes":["keys:read"]}"#)
        let id = try #require((created["key"] as? [String: Any])?["id"] as? String)
        let rotations = try together(6, "POST", "/v1/keys/\(id)/rotate", body: "{}")
        #expect(rotations.filter { $0.0 == 201 }.count == 1, "\(rotations.map(\.0))")
        #expect(rotations.filter { $0.0 == 409 && $0.1["code"] as? String == "key_not_active" }.count == 5)
        let (_, listed) = try send("GET", "/v1/keys?all=true&limit=200", body: nil)
        let items = listed["items"] as? [[String: Any]] ?? []
        #expect(items.filter { $0["name"] as? String == "once" }.count == 1)
        #expect(items.filter { $0["rotated_from"] as? String == id }.count == 1)
    }
}
