import DevInfraCore
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The server's TLS certificate chain and key, read from files and read again on SIGHUP, so an
/// operator renews a certificate without a restart. Every new handshake uses what was read last;
/// a reload that fails (a half-written file, a key that does not match) keeps the previous pair.
public final class CertificateStore: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: NIOLockedValueBox<(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey)>

    /// A certificate or key that cannot be used: `serve` exits 1 with the reason.
    public struct Failure: DevInfraError {
        public var reason: ReasonCode { .invalidArgument }
        public var message: String
        init(description: String) { message = description }
    }

    public init(certificatePath: String, keyPath: String) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        current = NIOLockedValueBox(try Self.read(certificatePath, keyPath))
    }

    static func read(_ certificatePath: String, _ keyPath: String) throws -> (chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(certificatePath) } catch {
            throw Failure(description: "cannot read the TLS certificate \(certificatePath): \(error)")
        }
        do { key = try NIOSSLPrivateKey(file: keyPath, format: .pem) } catch {
            throw Failure(description: "cannot read the TLS private key \(keyPath): \(error)")
        }
        guard !chain.isEmpty else { throw Failure(description: "\(certificatePath) holds no certificate") }
        // A context checks that the key belongs to the certificate, as the handshake will.
        do {
            _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw Failure(description: "the key in \(keyPath) does not fit the certificate in \(certificatePath): \(error)")
        }
        return (chain, key)
    }

    /// Reads both files again; on failure the pair in use stays.
    public func reload() throws {
        let pair = try Self.read(certificatePath, keyPath)
        current.withLockedValue { $0 = pair }
    }

    /// TLS 1.2 and up, with the current pair chosen afresh at every handshake.
    public func serverConfiguration() -> TLSConfiguration {
        let pair = current.withLockedValue { $0 }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: pair.chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(pair.key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.sslContextCallback = { [current] _, promise in
            let pair = current.withLockedValue { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = pair.chain.map { .certificate($0) }
            override.privateKey = .privateKey(pair.key)
            promise.succeed(override)
        }
        return configuration
    }
}

/// Reloads the certificate when the process gets SIGHUP, as nginx and most daemons do.
struct CertificateReloader: Service {
    let store: CertificateStore
    let logger: Logger

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { [store, logger] in
            do {
                try store.reload()
                logger.notice("reloaded the TLS certificate", metadata: ["certificate": .string(store.certificatePath)])
            } catch {
                logger.error("TLS certificate not reloaded; the previous one stays in use", metadata: ["error": .string("\(error)")])
            }
        }
        source.resume()
        try? await gracefulShutdown()
        source.cancel()
    }
}
