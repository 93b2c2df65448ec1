// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "dev-infra",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dev-infra", targets: ["dev-infra"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Key format, reason codes, exit codes: shared by client and (later) server.
        .target(name: "DevInfraCore"),
        // Where the client's credential lives: env, Secret Service keyring, files.
        .target(
            name: "CredentialStore",
            dependencies: ["DevInfraCore", .product(name: "Yams", package: "Yams")]
        ),
        // The `dev-infra` commands, as a library so tests can drive them.
        .target(
            name: "DevInfraCLI",
            dependencies: [
                "DevInfraCore", "CredentialStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "dev-infra", dependencies: ["DevInfraCLI"]),
        .testTarget(name: "DevInfraCoreTests", dependencies: ["DevInfraCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CredentialStoreTests", dependencies: ["CredentialStore"]),
        .testTarget(name: "EndToEndTests", dependencies: ["DevInfraCore"]),
    ]
)
