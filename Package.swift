// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "availd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "availd", targets: ["availd"]),
        .executable(name: "availd-sim", targets: ["availd-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Pure core: envelopes, signatures, dedupe keys, the hash chain. No I/O.
        .target(
            name: "AvailCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The SQLite event log, dead letters, migrations and the group-commit writer.
        .target(
            name: "AvailStore",
            dependencies: [
                "AvailCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Every store in PostgreSQL (the seam's second implementation), its migrations.
        .target(
            name: "AvailPostgres",
            dependencies: [
                "AvailCore",
                "AvailStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Configuration, buildApplication, routes, metrics.
        .target(
            name: "AvailServer",
            dependencies: [
                "AvailCore",
                "AvailStore",
                "AvailPostgres",
                "AvailClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Sends signed deliveries over HTTP as Calendly does: replay --to, availd-sim, tests.
        .target(
            name: "AvailClient",
            dependencies: [
                "AvailCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Builders for example deliveries and a signed-delivery client, shared by tests and availd-sim.
        // A stand-in for Calendly's API v2 on loopback: tests, the demo and benchmarks use it.
        .target(
            name: "CalendlyStandIn",
            dependencies: [
                "AvailCore",
                "AvailClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AvailTesting",
            dependencies: [
                "AvailCore",
                "AvailClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "availd",
            dependencies: [
                "AvailCore",
                "AvailStore",
                "AvailPostgres",
                "AvailServer",
                "AvailClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Calendly stand-in; for now its load generator.
        .executableTarget(
            name: "availd-sim",
            dependencies: [
                "AvailCore",
                "AvailStore",
                "AvailPostgres",
                "AvailTesting",
                "AvailClient",
                "CalendlyStandIn",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The properties the parsers keep over hostile bytes: for availd-fuzz and AvailCoreTests.
        .target(
            name: "AvailFuzzing",
            dependencies: ["AvailCore"],
            swiftSettings: swiftSettings
        ),
        // libFuzzer over AvailFuzzing when built by `make fuzz`; otherwise replays saved inputs.
        .executableTarget(
            name: "availd-fuzz",
            dependencies: ["AvailFuzzing"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AvailCoreTests",
            dependencies: ["AvailCore", "AvailFuzzing", "AvailTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AvailStoreTests",
            dependencies: [
                "AvailCore", "AvailStore", "AvailTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AvailServerTests",
            dependencies: [
                "AvailCore", "AvailStore", "AvailPostgres", "AvailServer", "AvailTesting", "AvailClient", "CalendlyStandIn",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The stores' promises against SQLite and a real PostgreSQL the tests start, and the
        // daemons on PostgreSQL.
        .testTarget(
            name: "AvailPostgresTests",
            dependencies: [
                "AvailCore", "AvailStore", "AvailPostgres", "AvailTesting", "AvailClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Runs the real executables (availd serve, replay, verify) as processes.
        .testTarget(
            name: "AvailEndToEndTests",
            dependencies: [
                "availd", "AvailCore", "AvailStore", "AvailTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
