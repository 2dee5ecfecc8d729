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
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // Pure core: envelopes, signatures, dedupe keys, the hash chain, the fold. No I/O.
        .target(
            name: "AvailCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // SQLite (GRDB): the event log, the read models, every store beside them, migrations,
        // the group-commit writer; and the protocols both backends implement.
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
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
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
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Compiled into the binary, so a moved one still serves them.
            resources: [
                .embedInCode("Resources/openapi.yaml"),
                .embedInCode("Resources/head.mustache"),
                .embedInCode("Resources/sign-in.mustache"),
                .embedInCode("Resources/settings.mustache"),
                .embedInCode("Resources/appointments.mustache"),
                .embedInCode("Resources/settings.css"),
                .embedInCode("Resources/settings.js"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP as a client: signed deliveries as Calendly sends them (replay --to, availd-sim,
        // tests), Calendly's API v2, and a raw HTTP/1.1 connection for load and limits.
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
        // Deliveries to send: builders of example deliveries, the generated corpus, a seeded
        // generator. Shared by availd-sim and the tests.
        .target(
            name: "AvailWorkload",
            dependencies: [
                "AvailCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // A stand-in for Calendly's API v2 on loopback: tests, the demo and benchmarks use it.
        .target(
            name: "CalendlyStandIn",
            dependencies: [
                "AvailCore",
                "AvailClient",
                "AvailWorkload",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // What only the tests use: the executables as processes, a PostgreSQL of their own,
        // temporary folders, the repository's paths.
        .target(
            name: "AvailTesting",
            dependencies: [
                "AvailCore",
                "AvailClient",
                "AvailWorkload",
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
        // The Calendly stand-in, the load generator and the benchmark tools.
        .executableTarget(
            name: "availd-sim",
            dependencies: [
                "AvailCore",
                "AvailStore",
                "AvailPostgres",
                "AvailClient",
                "AvailWorkload",
                "CalendlyStandIn",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
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
            dependencies: ["AvailCore", "AvailFuzzing", "AvailTesting", "AvailWorkload"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AvailStoreTests",
            dependencies: [
                "AvailCore", "AvailStore", "AvailTesting", "AvailWorkload",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AvailServerTests",
            dependencies: [
                "AvailCore", "AvailStore", "AvailPostgres", "AvailServer", "AvailTesting", "AvailWorkload", "AvailClient", "CalendlyStandIn",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // The stores' promises against SQLite and a real PostgreSQL the tests start, and the
        // daemons on PostgreSQL.
        .testTarget(
            name: "AvailPostgresTests",
            dependencies: [
                "AvailCore", "AvailStore", "AvailPostgres", "AvailTesting", "AvailWorkload", "AvailClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Runs the real executables (availd serve, replay, verify) as processes: it depends on
        // `availd` to have it built, and imports none of it.
        .testTarget(
            name: "AvailEndToEndTests",
            dependencies: [
                "availd", "AvailCore", "AvailStore", "AvailTesting", "AvailWorkload", "AvailClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
