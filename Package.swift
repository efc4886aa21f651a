// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mqtt-proxy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mqtt-proxy", targets: ["mqtt-proxy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.20.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        // Benchmark tooling only (mqtt-bench): latency percentiles.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // Pure wire format of the MQTT packets the proxy looks at (CONNECT, CONNACK, DISCONNECT).
        .target(
            name: "MQTTCodec",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // Pure wire format of HAProxy's PROXY protocol, versions 1 and 2 (with TLVs): read from load balancers in
        // front, sent to brokers behind.
        .target(
            name: "ProxyProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // Pure wire format of the TLS ClientHello the proxy reads before a handshake (server name, signature schemes).
        .target(name: "TLSWire", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // Pure balancing algorithms: APISIX-compatible consistent hashing, smooth WRR, least connections.
        // (ProxyModel only for `HostPort`, the one host:port parser.)
        .target(name: "LoadBalancing", dependencies: ["ProxyModel"]),
        // Stream routes, upstreams, ssl objects, config.yaml: decoding and validation.
        .target(
            name: "ProxyModel",
            dependencies: [
                "Yams",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        // The store of routes/upstreams/ssls: the RouteStore protocol; the APISIX standalone file; etcd (v3 JSON
        // gateway through AsyncHTTPClient).
        .target(
            name: "RouteStore",
            dependencies: [
                "ProxyModel",
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What clients of the engine may see and do: snapshot types and the `EngineControl` protocol. The console,
        // the admin API and the demo depend on this, never on ProxyEngine.
        .target(name: "ProxyControl", dependencies: ["ProxyModel", "RouteStore"]),
        // Listeners, route matching, preread, upstream connect with retries, relay, live registry.
        .target(
            name: "ProxyEngine",
            dependencies: [
                "MQTTCodec", "LoadBalancing", "ProxyModel", "RouteStore", "ProxyControl", "ProxyProtocol", "TLSWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // The APISIX-compatible admin API on :9180, live status under /v1/, Prometheus /metrics.
        .target(
            name: "AdminAPI",
            dependencies: [
                "ProxyModel", "RouteStore", "ProxyControl",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The engine control protocol over other instances' admin APIs: what `console --attach` drives (one instance
        // or a fleet, merged).
        .target(
            name: "RemoteControl",
            dependencies: [
                "ProxyControl", "ProxyModel", "RouteStore",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The ncursesw C library, for the console's terminal backend.
        .systemLibrary(name: "CNCursesw", path: "Sources/CNCursesw", providers: [.apt(["libncurses-dev"])]),
        // The operator console: pure state, views on an off-screen grid, and the curses backend.
        .target(
            name: "Console",
            dependencies: [
                "CNCursesw", "ProxyControl", "ProxyModel", "RouteStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "mqtt-proxy",
            dependencies: [
                "ProxyEngine", "ProxyControl", "ProxyModel", "RouteStore", "AdminAPI", "Console", "Demo", "DemoBroker",
                "RemoteControl",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Small in-process MQTT brokers for demos and tests: CONNECT/CONNACK, PING, SUBSCRIBE, PUBLISH among
        // their own clients; can be killed and revived on the same port.
        .target(
            name: "DemoBroker",
            dependencies: [
                "MQTTCodec",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `mqtt-proxy demo`: demo brokers, simulated clients with realistic ids, scripted kills and revives,
        // and the report of expected against observed shares and of clients moved at each change.
        .target(
            name: "Demo",
            dependencies: [
                "DemoBroker", "ProxyControl", "ProxyModel", "RouteStore", "MQTTCodec",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Benchmark tooling: test upstream (CONNACK responder, sink, echo), load scenarios, result table.
        .target(
            name: "MQTTBenchCore",
            dependencies: [
                "MQTTCodec", "ProxyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // `mqtt-bench`: connect / throughput / latency / idle scenarios and the test upstream; see scripts/bench.sh.
        .executableTarget(
            name: "mqtt-bench",
            dependencies: [
                "MQTTBenchCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `mqtt-loadgen` (C): the connection benchmark's clients and brokers, cheap enough not to be the limit.
        .executableTarget(name: "mqtt-loadgen"),
        // Release-mode micro-benchmarks of the CONNECT decoder and the chash ring; see scripts/microbench.sh.
        .executableTarget(
            name: "MicroBench",
            dependencies: ["MQTTCodec", "LoadBalancing", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // libFuzzer entry point for what is read from outside (CONNECT, MQTT framing, PROXY headers, TLS ClientHello,
        // admin JSON bodies, the YAML store); see scripts/fuzz.sh.
        .executableTarget(
            name: "ConnectFuzzer",
            dependencies: [
                "MQTTCodec", "ProxyProtocol", "TLSWire", "ProxyModel", .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // The APISIX test vectors (one copy of each) and their loader, for every test target that checks them.
        .target(name: "APISIXFixtures", path: "Tests/APISIXFixtures", resources: [.copy("Vectors")]),
        // Helpers shared by the engine and end-to-end tests: loopback clients, recording upstreams, a harness.
        .target(
            name: "ProxyTestSupport",
            dependencies: [
                "ProxyEngine", "ProxyControl", "MQTTCodec", "ProxyModel", "RouteStore", "Console", "APISIXFixtures",
                "ProxyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/ProxyTestSupport"
        ),
        .testTarget(
            name: "MQTTCodecTests",
            dependencies: ["MQTTCodec", "APISIXFixtures"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ProxyProtocolTests",
            dependencies: ["ProxyProtocol", .product(name: "NIOCore", package: "swift-nio")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "TLSWireTests",
            dependencies: ["TLSWire", .product(name: "NIOCore", package: "swift-nio")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "LoadBalancingTests",
            dependencies: ["LoadBalancing", "ProxyModel", "APISIXFixtures"]
        ),
        .testTarget(
            name: "ProxyModelTests",
            dependencies: [
                "ProxyModel", "ProxyTestSupport",
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "RouteStoreTests", dependencies: ["RouteStore", "ProxyModel", "ProxyTestSupport"]),
        .testTarget(name: "ProxyControlTests", dependencies: ["ProxyControl", "RouteStore", "ProxyModel"]),
        .testTarget(
            name: "DemoTests",
            dependencies: [
                "Demo", "DemoBroker", "ProxyEngine", "ProxyControl", "ProxyModel", "RouteStore", "LoadBalancing",
                "ProxyTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DemoBrokerTests",
            dependencies: [
                "DemoBroker", "MQTTCodec", "ProxyTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RemoteControlTests",
            dependencies: [
                "RemoteControl", "AdminAPI", "ProxyEngine", "ProxyControl", "ProxyModel", "RouteStore", "ProxyTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ConsoleTests",
            dependencies: ["Console", "ProxyControl", "ProxyModel", "RouteStore", "ProxyTestSupport"]
        ),
        .testTarget(
            name: "AdminAPITests",
            dependencies: [
                "AdminAPI", "ProxyEngine", "ProxyControl", "ProxyModel", "RouteStore", "ProxyTestSupport", "LoadBalancing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ProxyEngineTests",
            dependencies: [
                "ProxyEngine", "ProxyControl", "MQTTCodec", "LoadBalancing", "ProxyModel", "RouteStore",
                "ProxyTestSupport", "APISIXFixtures", "ProxyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .testTarget(
            name: "MQTTBenchCoreTests",
            dependencies: [
                "MQTTBenchCore", "MQTTCodec", "ProxyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ProxyEngine", "ProxyControl", "LoadBalancing", "ProxyModel", "RouteStore", "ProxyTestSupport",
                "ProxyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
