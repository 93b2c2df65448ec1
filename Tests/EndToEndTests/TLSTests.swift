import DevInfraCore
import Foundation
import Testing

/// The server on https with a CA the test makes, and the CLI verifying it: a private CA is trusted
/// only when named, a certificate from another CA or for another name fails with exit 6, and a
/// certificate replaced on disk is served after SIGHUP.
@Suite struct TLSTests {
    let sandbox = Sandbox()
    var folder: String { sandbox.root + "/pki" }

    func openssl(_ arguments: [String]) throws {
        let result = try Run.process("/usr/bin/openssl", arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": sandbox.root])
        guard result.status == 0 else { throw Failure(text: "openssl \(arguments.joined(separator: " ")): \(result.stderr)") }
    }

    struct Failure: Error, CustomStringConvertible { var text: String; var description: String { text } }

    /// A CA named `name`: `name.pem` and `name.key` in the folder.
    func makeCA(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                     "-subj", "/CN=dev-infra test \(name)", "-keyout", "\(folder)/\(name).key", "-out", "\(folder)/\(name).pem"])
    }

    /// A server certificate for `san` signed by `ca`, written to `out.pem` and `out.key`.
    func makeCertificate(_ out: String, ca: String, san: String) throws {
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=dev-infra server",
                     "-keyout", "\(folder)/\(out).key", "-out", "\(folder)/\(out).csr"])
        try "subjectAltName=\(san)\nextendedKeyUsage=serverAuth\n".write(toFile: "\(folder)/\(out).ext", atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", "\(folder)/\(out).csr", "-CA", "\(folder)/\(ca).pem", "-CAkey", "\(folder)/\(ca).key",
                     "-CAcreateserial", "-days", "2", "-extfile", "\(folder)/\(out).ext", "-out", "\(folder)/\(out).pem"])
    }

    func startServer(certificate: String) throws -> (ServerProcess, String, String) {
        let server = try ServerProcess(folder: sandbox.root + "/server",
                                       arguments: ["--tls-cert", "\(folder)/\(certificate).pem", "--tls-key", "\(folder)/\(certificate).key"])
        let admin = try server.admin(["admin", "bootstrap"]).stdout.trimmingCharacters(in: .newlines)
        return (server, admin, "https://127.0.0.1:\(server.port)")
    }

    @Test func loginListAndTokenWorkOverVerifiedTLS() throws {
        try makeCA("ca")
        try makeCA("other-ca")
        try makeCertificate("server", ca: "ca", san: "IP:127.0.0.1,DNS:localhost")
        let (server, admin, url) = try startServer(certificate: "server")
        defer { server.stop() }
        let trusted = ["DEV_INFRA_CA_CERT": "\(folder)/ca.pem"]

        let login = try sandbox.devInfra(["login", "--with-token", "--storage", "file", "--api-url", url], stdin: admin, extra: trusted)
        #expect(login.status == 0, "\(login.stderr)")
        let list = try sandbox.devInfra(["list", "--json"], extra: trusted)
        #expect(list.status == 0 && list.stdout.contains("bootstrap admin key"), "\(list.stderr)")
        let token = try sandbox.devInfra(["token"]).stdout.trimmingCharacters(in: .newlines)
        let curl = try Run.process("/usr/bin/curl", ["-sS", "--cacert", "\(folder)/ca.pem", "-H", "Authorization: Bearer \(token)",
                                                     "\(url)/v1/whoami"], environment: [:])
        #expect(curl.status == 0 && curl.stdout.contains("\"user\":\"admin\""), "\(curl.stderr)")

        // Without the private CA, or with another one, the system's store does not vouch for it.
        for extra in [[:], ["DEV_INFRA_CA_CERT": "\(folder)/other-ca.pem"]] {
            let refused = try sandbox.devInfra(["list"], extra: extra)
            #expect(refused.status == 6, "\(extra): \(refused.stderr)")
            #expect(refused.stderr.contains("[tls_untrusted]") && refused.stderr.contains("not signed by a CA this machine trusts"))
        }
        let unreadable = try sandbox.devInfra(["list"], extra: ["DEV_INFRA_CA_CERT": "\(folder)/missing.pem"])
        #expect(unreadable.status != 0 && unreadable.stderr.contains("cannot read PEM certificates"))

        // The profile's own setting does what the variable does.
        try sandbox.write(sandbox.configFile, "profiles:\n  default:\n    api_url: \(url)\n    storage: file\n    ca_cert: \(folder)/ca.pem\n", mode: 0o600)
        let fromProfile = try sandbox.devInfra(["list"])
        #expect(fromProfile.status == 0, "ca_cert in config.yml: \(fromProfile.stderr)")
    }

    @Test func aCertificateForAnotherNameFails() throws {
        try makeCA("ca")
        try makeCertificate("elsewhere", ca: "ca", san: "DNS:keys.other.example")
        let (server, admin, url) = try startServer(certificate: "elsewhere")
        defer { server.stop() }
        let result = try sandbox.devInfra(["list"], extra: ["DEV_INFRA_CA_CERT": "\(folder)/ca.pem", "DEV_INFRA_API_KEY": admin,
                                                            "DEV_INFRA_API_URL": url])
        #expect(result.status == 6, "\(result.stderr)")
        #expect(result.stderr.contains("[tls_untrusted]") && result.stderr.contains("another name"), "\(result.stderr)")
    }

    @Test func aKeyThatDoesNotFitTheCertificateStopsTheStart() throws {
        try makeCA("ca")
        try makeCertificate("one", ca: "ca", san: "IP:127.0.0.1")
        try makeCertificate("two", ca: "ca", san: "IP:127.0.0.1")
        let result = try Run.process(Run.builtProduct("dev-infra-server"),
                                     ["serve", "--port", "0", "--database", "sqlite:\(sandbox.root)/db.sqlite",
                                      "--tls-cert", "\(folder)/one.pem", "--tls-key", "\(folder)/two.key"],
                                     environment: ["HOME": sandbox.root, "PATH": "/usr/bin:/bin"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("does not fit the certificate"))
    }

    @Test func sighupServesTheRenewedCertificate() throws {
        try makeCA("ca")
        try makeCA("new-ca")
        try makeCertificate("server", ca: "ca", san: "IP:127.0.0.1")
        let (server, admin, url) = try startServer(certificate: "server")
        defer { server.stop() }
        func list(_ ca: String) throws -> RunResult {
            try sandbox.devInfra(["list"], extra: ["DEV_INFRA_CA_CERT": "\(folder)/\(ca).pem", "DEV_INFRA_API_KEY": admin, "DEV_INFRA_API_URL": url])
        }
        #expect(try list("ca").status == 0)
        #expect(try list("new-ca").status == 6)
        // A half-written certificate is not loaded: the pair in use stays.
        let good = try String(contentsOfFile: "\(folder)/server.pem", encoding: .utf8)
        try String(good.prefix(good.count / 2)).write(toFile: "\(folder)/server.pem", atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        var logged = ""
        let noticed = Date().addingTimeInterval(15)
        while !logged.contains("not reloaded") && Date() < noticed {
            logged = (try? String(contentsOfFile: server.logPath, encoding: .utf8)) ?? ""
            if !logged.contains("not reloaded") { Thread.sleep(forTimeInterval: 0.05) }  // polling the log for the event
        }
        #expect(logged.contains("TLS certificate not reloaded; the previous one stays in use"))
        #expect(try list("ca").status == 0, "the previous certificate is still served")
        // Renew: a certificate from the new CA replaces the files; SIGHUP makes the server read them.
        try makeCertificate("renewed", ca: "new-ca", san: "IP:127.0.0.1")
        for suffix in ["pem", "key"] {
            #expect(rename("\(folder)/renewed.\(suffix)", "\(folder)/server.\(suffix)") == 0)
        }
        kill(server.process.processIdentifier, SIGHUP)
        let deadline = Date().addingTimeInterval(15)
        var renewed = try list("new-ca")
        while renewed.status != 0 && Date() < deadline { renewed = try list("new-ca") }
        #expect(renewed.status == 0, "the renewed certificate is served without a restart: \(renewed.stderr)")
        #expect(try list("ca").status == 6, "the old CA no longer vouches for the server")
        #expect(server.process.isRunning)
        let log = try String(contentsOfFile: server.logPath, encoding: .utf8)
        #expect(log.contains("reloaded the TLS certificate"))
    }
}
