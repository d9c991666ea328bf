// swift-tools-version: 6.1
// hiclaw — a declarative control plane for teams of AI agents, with drivers loaded through a C ABI.
// Layout and the one-way dependency graph: docs/flow.md and ../shared/design/architecture.md.
import PackageDescription

/// Swift drivers link with this version script so that they export only the two ABI entry points.
let driverExportsMap = Context.packageDirectory + "/Sources/DriverKit/exports.map"
let driverLinkerSettings: [LinkerSetting] = [
  .unsafeFlags(["-Xlinker", "--version-script=\(driverExportsMap)"])
]
let strictSwift: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
]

/// A first-party Swift driver: one folder under Plugins/, one `.dynamic` product named `hc_<name>`.
func driver(_ target: String, product: String, path: String) -> (Product, Target) {
  (
    .library(name: product, type: .dynamic, targets: [target]),
    .target(
      name: target, dependencies: ["DriverKit"], path: path,
      swiftSettings: strictSwift, linkerSettings: driverLinkerSettings)
  )
}

let drivers = [
  driver("DockerDriver", product: "hc_docker", path: "Plugins/DockerDriver"),
  driver("K8sDriver", product: "hc_kubernetes", path: "Plugins/K8sDriver"),
  driver("CloudDriver", product: "hc_cloud", path: "Plugins/CloudDriver"),
  driver("OpenClawRuntime", product: "hc_openclaw", path: "Plugins/Runtimes/OpenClaw"),
  driver("CoPawRuntime", product: "hc_copaw", path: "Plugins/Runtimes/CoPaw"),
  driver("HermesRuntime", product: "hc_hermes", path: "Plugins/Runtimes/Hermes"),
  driver("ZeroClawRuntime", product: "hc_zeroclaw", path: "Plugins/Runtimes/ZeroClaw"),
  driver("NanoClawRuntime", product: "hc_nanoclaw", path: "Plugins/Runtimes/NanoClaw"),
  // Test-only: an in-memory worker backend implementing all of worker-backend/1.
  driver("MemoryBackendDriver", product: "hc_memory", path: "Tests/Fixtures/SwiftDrivers/MemoryBackend"),
  // Test-only: an agent runtime implementing render, serving "nanoclaw" (tests of the reconcilers).
  driver("FixtureRuntimeDriver", product: "hc_fixture_runtime", path: "Tests/Fixtures/SwiftDrivers/FixtureRuntime"),
]

let package = Package(
  name: "hiclaw",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "hiclaw", targets: ["CLI"]),
    .executable(name: "hiclaw-host", targets: ["Daemon"]),
    .executable(name: "hiclaw-driver-runner", targets: ["Runner"]),
    .executable(name: "hiclaw-bench-driver", targets: ["DriverBenchmark"]),
    .executable(name: "hiclaw-bench-host", targets: ["HostBenchmark"]),
    .library(name: "DriverKit", targets: ["DriverKit"]),
  ] + drivers.map(\.0),
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
  ],
  targets: [
    // The C ABI: one header (include/hiclaw_driver.h), the protocol schemas, no code.
    .target(name: "DriverABI", path: "Sources/DriverABI", exclude: ["schemas", "abi.lock"]),
    // Typed wire models of the domain protocols (worker-backend/1, agent-runtime/1), shared by
    // the SDK and the host.
    .target(name: "DriverProtocols", path: "Sources/DriverProtocols", swiftSettings: strictSwift),
    // The SDK third parties use to write Swift drivers.
    .target(
      name: "DriverKit", dependencies: ["DriverABI", "DriverProtocols"], path: "Sources/DriverKit",
      exclude: ["exports.map"], swiftSettings: strictSwift),

    // Host modules.
    // libcurl, loaded with dlopen on first use (see include/ccurl.h); needs its headers to build
    // (libcurl4-openssl-dev) and libcurl.so.4 to run.
    .target(name: "CCurl", path: "Sources/Host/CCurl", linkerSettings: [.linkedLibrary("dl")]),
    .systemLibrary(name: "CSystemShims", path: "Sources/Host/CSystemShims"),
    .systemLibrary(name: "CSQLiteConfig", path: "Sources/Host/CSQLiteConfig", providers: [.apt(["libsqlite3-dev"])]),
    // Resources: the four kinds, defaults and validation. No I/O.
    .target(name: "Model", path: "Sources/Host/Model", swiftSettings: strictSwift),
    // YAML: a libyaml wrapper producing JSON values with source positions.
    .systemLibrary(
      name: "CYAML", path: "Sources/Host/CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
    .target(name: "YAML", dependencies: ["CYAML"], path: "Sources/Host/YAML", swiftSettings: strictSwift),
    // Store: objects with revisions, watch, Events, secrets and tokens in one SQLite file (GRDB).
    .target(
      name: "Store",
      dependencies: [
        "CSQLiteConfig", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
      ],
      path: "Sources/Host/Store", swiftSettings: strictSwift),
    // Typed resources over the kind-agnostic store (StoredObject <-> Worker/Team/Human/Manager).
    .target(name: "ResourceStore", dependencies: ["Model", "Store"], path: "Sources/Host/ResourceStore", swiftSettings: strictSwift),
    // The REST API (Hummingbird) over the store only: resources, watch, auth, lifecycle, metrics.
    .target(
      name: "APIServer",
      dependencies: [
        "Model", "Store", "ResourceStore",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        // Graceful shutdown ends open watch streams (withGracefulShutdownHandler).
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      path: "Sources/Host/APIServer", swiftSettings: strictSwift),
    // The reconcile engine: work queue, controllers per kind, provisioner protocols, backend calls.
    .target(
      name: "Reconcile",
      dependencies: [
        "Model", "Store", "ResourceStore", "DriverHost", "DriverProtocols",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "HeapModule", package: "swift-collections"),
      ],
      path: "Sources/Host/Reconcile", swiftSettings: strictSwift),
    .target(
      name: "DriverHost",
      dependencies: [
        "DriverABI", "DriverProtocols", "CCurl", "CSystemShims",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "HeapModule", package: "swift-collections"),
      ],
      path: "Sources/Host/DriverHost", swiftSettings: strictSwift),
    .target(
      name: "DriverConformance", dependencies: ["DriverHost", "DriverProtocols"],
      path: "Sources/Host/Conformance", swiftSettings: strictSwift),
    .executableTarget(
      name: "CLI",
      dependencies: [
        "DriverHost", "DriverConformance", "Model", "YAML", "CCurl",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Sources/Host/CLI", swiftSettings: strictSwift),
    // `hiclaw-host`: the composition root (store, API server, controllers, driver host).
    .executableTarget(
      name: "Daemon",
      dependencies: [
        "Model", "DriverProtocols", "YAML", "Store", "ResourceStore", "APIServer", "Reconcile", "DriverHost", "CSystemShims",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Hummingbird", package: "hummingbird"),
      ],
      path: "Sources/Host/Daemon", swiftSettings: strictSwift),
    .executableTarget(
      name: "Runner", dependencies: ["DriverHost", "CSystemShims"], path: "Sources/Host/Runner",
      swiftSettings: strictSwift),

    // Benchmarks (run by scripts/bench.sh in release mode; results in Benchmarks/RESULTS.md).
    .executableTarget(
      name: "DriverBenchmark",
      dependencies: ["DriverHost", "DriverABI", "DriverProtocols", .product(name: "Logging", package: "swift-log")],
      path: "Benchmarks/DriverBenchmark",
      swiftSettings: strictSwift),

    // BM1–BM4 and idle RSS of issue 3: store, apply, GET and watch, each next to its floor.
    .executableTarget(
      name: "HostBenchmark",
      dependencies: [
        "Store", "ResourceStore", "Model", "Reconcile", "APIServer", "DriverHost", "DriverProtocols",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      path: "Benchmarks/HostBenchmark",
      swiftSettings: strictSwift),

    // Tests.
    .testTarget(
      name: "DriverHostTests", dependencies: ["DriverHost", "DriverConformance", "DriverProtocols"],
      path: "Tests/DriverHostTests", swiftSettings: strictSwift),
    .testTarget(name: "ModelTests", dependencies: ["Model"], path: "Tests/ModelTests", swiftSettings: strictSwift),
    .testTarget(
      name: "ReconcileTests",
      dependencies: [
        "Reconcile", "Store", "ResourceStore", "Model", "DriverHost", "DriverProtocols",
        .product(name: "Logging", package: "swift-log"),
      ],
      path: "Tests/ReconcileTests", swiftSettings: strictSwift),
    .testTarget(
      name: "APIServerTests",
      dependencies: [
        "APIServer", "Store", "ResourceStore", "Model",
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        // The tests make their own registry and logger for the server under test.
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Logging", package: "swift-log"),
      ],
      path: "Tests/APIServerTests", swiftSettings: strictSwift),
    .testTarget(
      name: "StoreTests",
      // GRDB: to build a store file at an earlier schema version (migration tests).
      dependencies: ["Store", .product(name: "GRDB", package: "GRDB.swift")],
      path: "Tests/StoreTests", swiftSettings: strictSwift),
    .testTarget(name: "YAMLTests", dependencies: ["YAML"], path: "Tests/YAMLTests", swiftSettings: strictSwift),
    // Black-box tests of the `hiclaw` executable (driver verify/install/list/remove).
    .testTarget(name: "CLITests", path: "Tests/CLITests", swiftSettings: strictSwift),
    // Black-box tests of a live `hiclaw-host` on port 0 (REST API, CLI, reconcile, crash recovery).
    .testTarget(name: "HostTests", path: "Tests/HostTests", swiftSettings: strictSwift),
  ] + drivers.map(\.1),
  swiftLanguageModes: [.v6]
)
