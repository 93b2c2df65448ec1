import Foundation
import NIOSSL
import PostgresNIO

/// A database URL that cannot be used. Its message never quotes the URL (a mistyped or unencoded
/// password can land in any part of it), only which part is wrong.
public struct DatabaseURLError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Where and how to reach PostgreSQL, from a libpq-style URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?sslmode=MODE[&sslrootcert=PATH]]`
/// (`postgresql://` too). The host defaults to 127.0.0.1 (an IPv6 address goes in brackets,
/// `[::1]`), the port to 5432, the database to the user's name, `sslmode` to `disable`.
///
/// Printing the settings (description, debug description, `dump`) shows `redacted`: the password
/// never reaches a log.
public struct PostgresSettings: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS when the server offers it, without verifying its certificate (libpq's meaning).
        case prefer
        /// TLS or no connection, without verifying the certificate.
        case require
        /// TLS with the certificate verified against the trusted roots, but not its host name.
        case verifyCA = "verify-ca"
        /// TLS with the certificate and the host name verified.
        case verifyFull = "verify-full"

        var verifies: Bool { self == .verifyCA || self == .verifyFull }
    }

    public let host: String
    public let port: Int
    public let user: String
    /// Internal, and left out of every description.
    let password: String?
    public let database: String
    public let sslMode: SSLMode
    /// A PEM file of the CAs to trust instead of the system's (verify-ca and verify-full only).
    public let sslRootCert: String?
    /// The most connections the pool opens (the listener of the change feed takes one more).
    public var poolSize: Int
    /// How long one storage call may take, waiting for a connection included, before it fails
    /// as unavailable: a stopped database never holds a request for longer.
    public var queryTimeout: Duration = .seconds(5)
    /// How long opening one connection (TCP, TLS, authentication) may take.
    public var connectTimeout: Duration = .seconds(5)
    /// How long `migrate()` may take: it may wait for another replica's migration.
    public var migrationTimeout: Duration = .seconds(60)
    /// The URL with the password replaced by `***`.
    public let redacted: String

    public static let applicationName = "dev-infra-server"

    public init(url: String, poolSize: Int = 10) throws {
        guard poolSize >= 1 else { throw DatabaseURLError("the database pool size must be at least 1") }
        let scheme: String
        if url.hasPrefix("postgres://") {
            scheme = "postgres"
        } else if url.hasPrefix("postgresql://") {
            scheme = "postgresql"
        } else {
            throw DatabaseURLError("a PostgreSQL URL starts with postgres:// or postgresql://")
        }
        let rest = url.dropFirst(scheme.count + "://".count)
        guard !rest.contains("#") else {
            throw DatabaseURLError("the database URL must not contain '#' (percent-encode it in a password as %23)")
        }

        // The authority ends at the first '/' or '?'; a password holding either must be percent-encoded.
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        // The last '@': an unencoded '@' in a password still leaves the host intact.
        guard let at = authority.lastIndex(of: "@") else {
            throw DatabaseURLError("the database URL must name a user: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
                                   + " (percent-encode '/', '?' and '#' in a password)")
        }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]

        let rawUser: Substring
        let rawPassword: Substring?
        if let colon = userInfo.firstIndex(of: ":") {
            rawUser = userInfo[..<colon]
            rawPassword = userInfo[userInfo.index(after: colon)...]
        } else {
            rawUser = userInfo
            rawPassword = nil
        }
        guard let user = Self.percentDecoded(rawUser), !user.isEmpty else {
            throw DatabaseURLError("the user in the database URL is empty or not valid percent-encoding")
        }
        var password: String?
        if let rawPassword {
            guard let decoded = Self.percentDecoded(rawPassword) else {
                throw DatabaseURLError("the password in the database URL is not valid percent-encoding")
            }
            password = decoded
        }

        var host: String
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw DatabaseURLError("an IPv6 host in the database URL needs its closing bracket: [::1]")
            }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw DatabaseURLError("the host in the database URL is not valid") }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw DatabaseURLError("the IPv6 host in the database URL is not valid")
            }
        } else {
            if let colon = hostPort.firstIndex(of: ":") {
                host = String(hostPort[..<colon])
                portText = hostPort[hostPort.index(after: colon)...]
            } else {
                host = String(hostPort)
            }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
                throw DatabaseURLError("the host in the database URL is not valid")
            }
        }
        if host.isEmpty { host = "127.0.0.1" }

        var port = 5432
        if let portText, !portText.isEmpty {
            guard portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(portText),
                  (1...65535).contains(number) else {
                throw DatabaseURLError("the port in the database URL must be a number from 1 to 65535")
            }
            port = number
        }

        var pathAndQuery = rest[authorityEnd...]
        if pathAndQuery.hasPrefix("/") { pathAndQuery = pathAndQuery.dropFirst() }
        let queryStart = pathAndQuery.firstIndex(of: "?")
        let path = pathAndQuery[..<(queryStart ?? pathAndQuery.endIndex)]
        guard !path.contains("/"), let database = Self.percentDecoded(path) else {
            throw DatabaseURLError("the database name in the database URL is not valid (percent-encode '/' in it)")
        }

        var sslMode = SSLMode.disable
        var sslRootCert: String?
        if let queryStart {
            var seen: Set<String> = []
            for pair in pathAndQuery[pathAndQuery.index(after: queryStart)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let name = Self.percentDecoded(parts[0]), let value = Self.percentDecoded(parts[1]) else {
                    throw DatabaseURLError("the parameters of the database URL must be NAME=VALUE")
                }
                guard seen.insert(name).inserted else {
                    throw DatabaseURLError("a parameter of the database URL is given twice")
                }
                switch name {
                case "sslmode":
                    guard let mode = SSLMode(rawValue: value) else {
                        throw DatabaseURLError("sslmode in the database URL must be one of "
                                               + SSLMode.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    sslMode = mode
                case "sslrootcert":
                    guard !value.isEmpty else { throw DatabaseURLError("sslrootcert in the database URL must be a file's path") }
                    sslRootCert = value
                default:
                    throw DatabaseURLError("the database URL has an unknown parameter: only sslmode and sslrootcert are accepted")
                }
            }
        }
        // A CA file without verification would look safer than it is.
        if sslRootCert != nil && !sslMode.verifies {
            throw DatabaseURLError("sslrootcert in the database URL needs sslmode=verify-ca or sslmode=verify-full")
        }

        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database.isEmpty ? user : database
        self.sslMode = sslMode
        self.sslRootCert = sslRootCert
        self.poolSize = poolSize
        self.redacted = "\(scheme)://\(rawUser)\(rawPassword == nil ? "" : ":***")@\(hostPort)\(rest[authorityEnd...])"
    }

    public var description: String { redacted }
    public var debugDescription: String { "PostgresSettings(\(redacted), pool size \(poolSize))" }
    public var customMirror: Mirror { Mirror(self, children: ["url": redacted, "poolSize": poolSize], displayStyle: .struct) }

    /// The TLS of `sslMode`; nil when it is `disable`.
    func tlsConfiguration() -> TLSConfiguration? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable: return nil
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        // The host name is checked against the certificate (an IP address against its IP SANs).
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let sslRootCert { tls.trustRoots = .file(sslRootCert) }
        return tls
    }

    /// The pool's configuration: at most `poolSize` connections. The TLS context (and the CA file)
    /// is made when the first connection opens, not here.
    public func clientConfiguration() -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        if let configuration = tlsConfiguration() {
            tls = sslMode == .prefer ? .prefer(configuration) : .require(configuration)
        } else {
            tls = .disable
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password,
                                                         database: database, tls: tls)
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = connectTimeout
        configuration.options.additionalStartupParameters = [("application_name", Self.applicationName)]
        return configuration
    }

    /// One dedicated connection's configuration (the change feed's `LISTEN`), with the same host,
    /// credentials and TLS as the pool. Throws when the TLS context cannot be made (an unreadable
    /// CA file, say).
    public func connectionConfiguration(applicationName: String = Self.applicationName) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        if let configuration = tlsConfiguration() {
            let context = try NIOSSLContext(configuration: configuration)
            tls = sslMode == .prefer ? .prefer(context) : .require(context)
        } else {
            tls = .disable
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password,
                                                             database: database, tls: tls)
        configuration.options.connectTimeout = TimeAmount(connectTimeout)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        String(text).removingPercentEncoding
    }
}
