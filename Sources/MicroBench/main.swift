// MicroBench: release-mode timings (ns/op) of the CONNECT decoder and the chash ring lookup.
//
// Usage: MicroBench [--case NAME|all] [--iterations N] [--no-timing] [--list]
// Each case runs a fixed warm-up (1,000 ops) and then N timed ops. The work is deterministic and its results
// feed a checksum that is printed, so the optimizer cannot drop it. For allocation counts, scripts/microbench.sh
// runs one case under valgrind with N and 2N iterations (--no-timing) and divides the difference by N: setup
// allocations cancel out.

import Foundation
import LoadBalancing
import MQTTCodec
import NIOCore

/// One benchmark case: a name, a description and the operation (returns a value folded into the checksum).
struct BenchCase {
    var name: String
    var about: String
    var operation: () -> Int
}

/// Representative CONNECT packets, encoded once.
enum Inputs {
    static let shortID = "sensor-0042"  // 11 bytes: a Swift small string, stored inline
    static let longID = "plant-7/line-03/robot-arm-12-d5f0c7a2-4b1e-4c8f"  // 47 bytes: needs a heap string

    /// 3.1.1 with a user name and password (the "-minimal" case has neither).
    static func connect311(clientID: String) -> ByteBuffer {
        ConnectPacket(
            protocolLevel: 4, keepAlive: 60, clientID: clientID, username: "device", password: Array("secret".utf8)
        ).encoded
    }

    /// MQTT 5 with the properties real clients send: session expiry, receive maximum, maximum packet size,
    /// topic alias maximum and one user property.
    static func connect5(clientID: String) -> ByteBuffer {
        ConnectPacket(
            protocolLevel: 5, keepAlive: 30,
            properties: [
                MQTTProperty(.sessionExpiryInterval, .fourByteInteger(3600)),
                MQTTProperty(.receiveMaximum, .twoByteInteger(100)),
                MQTTProperty(.maximumPacketSize, .fourByteInteger(1 << 20)),
                MQTTProperty(.topicAliasMaximum, .twoByteInteger(10)),
                MQTTProperty(.userProperty, .stringPair("site", "b7")),
            ],
            clientID: clientID, username: "device", password: Array("secret".utf8)
        ).encoded
    }

    /// A ring like a real route's: 4 brokers of weight 1 (640 points).
    static let ring = ConsistentHashRing(servers: (1...4).map { (address: "10.0.0.\($0):1883", weight: 1) })
    /// 64 distinct keys, so lookups do not all hit the same cache line.
    static let shortKeys = (0..<64).map { "sensor-\(1000 + $0)" }
    static let longKeys = (0..<64).map { "plant-7/line-03/robot-arm-12-d5f0c7a2-4b1e-\(1000 + $0)" }
}

/// Decodes `buffer`; the checksum term is the packet's size, so a failure to decode shows as a wrong checksum.
@inline(never)
func decode(_ buffer: ByteBuffer) -> Int {
    switch ConnectDecoder.decode(buffer) {
    case .complete(let packet): packet.byteCount
    case .needMoreBytes: -1
    case .malformed: -2
    }
}

func makeCases() -> [BenchCase] {
    // The harness's own cost per op (closure call, counter, checksum): subtract it from the other cases.
    var counter = 0
    var cases = [
        BenchCase(name: "baseline", about: "harness overhead: an empty op") {
            counter &+= 1
            return counter
        },
    ]
    let minimal = ConnectPacket(protocolLevel: 4, keepAlive: 60, clientID: Inputs.shortID).encoded
    for (name, buffer) in [
        ("decode-3.1.1-minimal", minimal),
        ("decode-3.1.1-short-id", Inputs.connect311(clientID: Inputs.shortID)),
        ("decode-3.1.1-long-id", Inputs.connect311(clientID: Inputs.longID)),
        ("decode-5-props-short-id", Inputs.connect5(clientID: Inputs.shortID)),
        ("decode-5-props-long-id", Inputs.connect5(clientID: Inputs.longID)),
    ] {
        cases.append(BenchCase(name: name, about: "ConnectDecoder.decode, \(buffer.readableBytes) bytes") {
            decode(buffer)
        })
    }
    // What the proxy does per connection: decode, then make the client id string once (free up to 15 bytes,
    // Swift's inline small strings; one allocation above).
    for (name, buffer) in [
        ("decode+id-3.1.1-short-id", Inputs.connect311(clientID: Inputs.shortID)),
        ("decode+id-3.1.1-long-id", Inputs.connect311(clientID: Inputs.longID)),
    ] {
        cases.append(BenchCase(name: name, about: "decode, then ConnectPacket.clientID") {
            guard case .complete(let packet) = ConnectDecoder.decode(buffer) else { return -1 }
            return packet.clientID.utf8.count
        })
    }
    let ring = Inputs.ring
    for (name, keys) in [("ring-lookup-short-key", Inputs.shortKeys), ("ring-lookup-long-key", Inputs.longKeys)] {
        var index = 0
        cases.append(BenchCase(name: name, about: "ConsistentHashRing.lookup(String), \(ring.pointCount) points") {
            index = (index + 1) & 63
            return ring.lookup(keys[index])?.node ?? -1
        })
    }
    var hash: UInt32 = 12345
    cases.append(BenchCase(name: "ring-lookup-hash", about: "ConsistentHashRing.lookup(hash:), binary search only") {
        hash = hash &* 1_664_525 &+ 1_013_904_223
        return ring.lookup(hash: hash)?.node ?? -1
    })
    return cases
}

/// Monotonic nanoseconds.
func now() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

var selected = "all"
var iterations = 2_000_000
var timing = true
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--case": selected = arguments.next() ?? "all"
    case "--iterations": iterations = Int(arguments.next() ?? "") ?? iterations
    case "--no-timing": timing = false
    case "--list":
        makeCases().forEach { print($0.name) }
        exit(0)
    default:
        let usage = "usage: MicroBench [--case NAME|all] [--iterations N] [--no-timing] [--list]\n"
        FileHandle.standardError.write(Data(usage.utf8))
        exit(2)
    }
}

let cases = makeCases().filter { selected == "all" || $0.name == selected }
guard !cases.isEmpty else {
    FileHandle.standardError.write(Data("MicroBench: no case named \(selected); see --list\n".utf8))
    exit(2)
}
for benchCase in cases {
    var checksum = 0
    for _ in 0..<1_000 {
        checksum &+= benchCase.operation()
    }
    // Best of 3 rounds: the least disturbed by the other core's work.
    var best = UInt64.max
    for _ in 0..<(timing ? 3 : 1) {
        let start = now()
        for _ in 0..<iterations {
            checksum &+= benchCase.operation()
        }
        best = min(best, now() - start)
    }
    let nanosPerOp = Double(best) / Double(iterations)
    let padded = benchCase.name.padding(toLength: 26, withPad: " ", startingAt: 0)
    if timing {
        print("\(padded) \(String(format: "%8.1f", nanosPerOp)) ns/op  (\(benchCase.about); checksum \(checksum))")
    } else {
        print("\(padded) \(iterations) ops (checksum \(checksum))")
    }
}
