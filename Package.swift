// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "dev-infra",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dev-infra", targets: ["dev-infra"]),
        .executable(name: "dev-infra-server", targets: ["dev-infra-server"]),
        .library(name: "DevInfraCore", targets: ["DevInfraCore"]),
        .library(name: "CredentialStore", targets: ["CredentialStore"]),
        // For other Swift services: a Hummingbird middleware that trusts dev-infra keys (introspection).
        .library(name: "DevInfraAuth", targets: ["DevInfraAuth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Key format, reason codes, exit codes: shared by client and (later) server.
        .target(name: "DevInfraCore"),
        // Where the client's credential lives: env, Secret Service keyring, files.
        .target(
            name: "CredentialStore",
            dependencies: ["DevInfraCore", .product(name: "Yams", package: "Yams")]
        ),
        // The HTTP client of the key-management API, generated from openapi.yaml.
        .target(
            name: "DevInfraClient",
            dependencies: [
                "DevInfraCore",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // The `dev-infra` commands, as a library so tests can drive them.
        .target(
            name: "DevInfraCLI",
            dependencies: [
                "DevInfraCore", "CredentialStore", "DevInfraClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "dev-infra", dependencies: ["DevInfraCLI"]),
        // The key-management API: routes, authentication, storage behind a repository protocol.
        .target(
            name: "KeyServer",
            dependencies: [
                "DevInfraCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // Hummingbird middleware for services that accept dev-infra keys, through RFC 7662 introspection.
        .target(
            name: "DevInfraAuth",
            dependencies: [
                "DevInfraCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // `dev-infra-server serve|admin ...`, as a library so tests can call it.
        .target(
            name: "ServerCommands",
            dependencies: ["KeyServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "dev-infra-server", dependencies: ["ServerCommands"]),
        .testTarget(name: "DevInfraCoreTests", dependencies: ["DevInfraCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CredentialStoreTests", dependencies: ["CredentialStore"]),
        .testTarget(name: "DevInfraCLITests", dependencies: ["DevInfraCLI", "DevInfraCore", "DevInfraClient",
                                                            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "EndToEndTests", dependencies: ["DevInfraCore", "DevInfraAuth", .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "JWTKit", package: "jwt-kit")], exclude: ["Support/drop_proxy.py", "Support/plainless_secret_service.py", "Support/hostile_server.py", "Support/echo_upstream.py"]),
        .testTarget(
            name: "KeyServerTests",
            dependencies: ["KeyServer", .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "HummingbirdBcrypt", package: "hummingbird-auth")]
        ),
    ]
)
