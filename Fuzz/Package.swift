// swift-tools-version:6.0
// libFuzzer targets for dev-infra's parsers. Built and run by scripts/fuzz.sh, never by the main
// package's build: each executable gets its `main` from libFuzzer (-sanitize=fuzzer).
import PackageDescription

let package = Package(
    name: "dev-infra-fuzz",
    dependencies: [
        // The name makes `package: "dev-infra"` work whatever the checkout's folder is called.
        .package(name: "dev-infra", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "FuzzKeyParser",
            dependencies: [.product(name: "DevInfraCore", package: "dev-infra")]
        ),
        .executableTarget(
            name: "FuzzCredentialFiles",
            dependencies: [
                .product(name: "CredentialStore", package: "dev-infra"),
                .product(name: "DevInfraCore", package: "dev-infra"),
            ]
        ),
        .executableTarget(
            name: "FuzzJSONBody",
            dependencies: [.product(name: "DevInfraCore", package: "dev-infra")]
        ),
    ]
)
