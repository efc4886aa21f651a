import DemoBroker
import Foundation
import MQTTCodec
import NIOCore
import ProxyTestSupport
import Testing

/// SUBSCRIBE, PUBLISH routing, QoS, retained messages, wills and events, over loopback with raw bytes.
@Suite("Demo broker messaging", .timeLimit(.minutes(1)))
struct MessagingTests {
    @Test("SUBACK grants min(requested, 1) and refuses invalid filters; UNSUBACK answers UNSUBSCRIBE")
    func subackAndUnsuback() async throws {
        try await withBroker { broker, group in
            let filters: [(String, UInt8)] = [("a/+", 0), ("b/#", 1), ("c", 2), ("bad/#/x", 0)]
            let v3 = try await Peer.connect(broker, group: group, clientID: "v3")
            #expect(try await v3.exchange(Wire.subscribe(id: 7, filters)) == [0x90, 0x06, 0x00, 0x07, 0, 1, 1, 0x80])
            #expect(try await v3.exchange(Wire.unsubscribe(id: 8, ["a/+", "zzz"])) == [0xB0, 0x02, 0x00, 0x08])

            let v5 = try await Peer.connect(broker, group: group, clientID: "v5", level: 5)
            #expect(try await v5.exchange(Wire.subscribe(id: 7, filters, level: 5))
                == [0x90, 0x07, 0x00, 0x07, 0x00, 0, 1, 1, 0x8F])
            #expect(try await v5.exchange(Wire.unsubscribe(id: 9, ["a/+", "zzz"], level: 5))
                == [0xB0, 0x05, 0x00, 0x09, 0x00, 0x00, 0x11])
        }
    }

    @Test("PUBLISH reaches every subscriber whose filter matches: +, #, and $SYS not matched by #")
    func wildcardRouting() async throws {
        try await withBroker { broker, group in
            let plus = try await Peer.connect(broker, group: group, clientID: "plus")
            _ = try await plus.exchange(Wire.subscribe(id: 1, [("sensors/+/temp", 0), ("marker", 0)]))
            let hash = try await Peer.connect(broker, group: group, clientID: "hash")
            _ = try await hash.exchange(Wire.subscribe(id: 1, [("#", 0)]))
            let home = try await Peer.connect(broker, group: group, clientID: "home")
            _ = try await home.exchange(Wire.subscribe(id: 1, [("home/#", 0), ("marker", 0)]))
            let sys = try await Peer.connect(broker, group: group, clientID: "sys")
            _ = try await sys.exchange(Wire.subscribe(id: 1, [("$SYS/#", 0), ("marker", 0)]))
            let publisher = try await Peer.connect(broker, group: group, clientID: "pub")

            for (topic, payload) in [("sensors/k1/temp", "21"), ("sensors/k1/x/temp", "no"), ("home", "parent"),
                                     ("home/kitchen/light", "on"), ("$SYS/uptime", "42"), ("marker", "end")]
            {
                try await publisher.send(Wire.publish(topic, payload))
            }
            #expect(await plus.nextPacket() == Wire.publish("sensors/k1/temp", "21"))
            #expect(await plus.nextPacket() == Wire.publish("marker", "end"))
            #expect(await home.nextPacket() == Wire.publish("home", "parent"))
            #expect(await home.nextPacket() == Wire.publish("home/kitchen/light", "on"))
            #expect(await home.nextPacket() == Wire.publish("marker", "end"))
            #expect(await sys.nextPacket() == Wire.publish("$SYS/uptime", "42"))
            #expect(await sys.nextPacket() == Wire.publish("marker", "end"))
            var seenByHash: [[UInt8]] = []
            for _ in 0..<5 { seenByHash.append(await hash.nextPacket() ?? []) }
            #expect(seenByHash == [Wire.publish("sensors/k1/temp", "21"), Wire.publish("sensors/k1/x/temp", "no"),
                                   Wire.publish("home", "parent"), Wire.publish("home/kitchen/light", "on"),
                                   Wire.publish("marker", "end")])
            #expect(broker.messagesIn == 6)
            #expect(broker.messagesOut == 12)
        }
    }

    @Test("QoS 1: PUBACK to the sender, delivery at min(QoS) with a packet id; v5 gets an empty property list")
    func qos1() async throws {
        try await withBroker { broker, group in
            let sub1 = try await Peer.connect(broker, group: group, clientID: "sub1")
            _ = try await sub1.exchange(Wire.subscribe(id: 1, [("q/#", 1)]))
            let sub0 = try await Peer.connect(broker, group: group, clientID: "sub0")
            _ = try await sub0.exchange(Wire.subscribe(id: 1, [("q/#", 0)]))
            let sub5 = try await Peer.connect(broker, group: group, clientID: "sub5", level: 5)
            _ = try await sub5.exchange(Wire.subscribe(id: 1, [("q/#", 1)], level: 5))

            let pub = try await Peer.connect(broker, group: group, clientID: "pub")
            #expect(try await pub.exchange(Wire.publish("q/a", "one", qos: 1, id: 42)) == [0x40, 0x02, 0x00, 42])
            let pub5 = try await Peer.connect(broker, group: group, clientID: "pub5", level: 5)
            #expect(try await pub5.exchange(Wire.publish("q/b", "two", qos: 1, id: 43, level: 5))
                == [0x40, 0x02, 0x00, 43])

            #expect(await sub1.nextPacket() == Wire.publish("q/a", "one", qos: 1, id: 1))
            #expect(await sub1.nextPacket() == Wire.publish("q/b", "two", qos: 1, id: 2))
            #expect(await sub0.nextPacket() == Wire.publish("q/a", "one"))
            #expect(await sub0.nextPacket() == Wire.publish("q/b", "two"))
            #expect(await sub5.nextPacket() == Wire.publish("q/a", "one", qos: 1, id: 1, level: 5))
            #expect(await sub5.nextPacket() == Wire.publish("q/b", "two", qos: 1, id: 2, level: 5))
            // The subscriber's PUBACK is accepted silently.
            try await sub1.send([0x40, 0x02, 0x00, 0x01])
            #expect(try await sub1.exchange(Wire.pingreq) == Wire.pingresp)
        }
    }

    @Test("QoS 2: PUBREC / PUBCOMP, and a retransmitted PUBLISH is delivered once")
    func qos2() async throws {
        try await withBroker { broker, group in
            let sub = try await Peer.connect(broker, group: group, clientID: "sub")
            _ = try await sub.exchange(Wire.subscribe(id: 1, [("x", 2)]))
            let pub = try await Peer.connect(broker, group: group, clientID: "pub")
            #expect(try await pub.exchange(Wire.publish("x", "once", qos: 2, id: 5)) == [0x50, 0x02, 0x00, 0x05])
            var duplicate = Wire.publish("x", "once", qos: 2, id: 5)
            duplicate[0] |= 0x08
            #expect(try await pub.exchange(duplicate) == [0x50, 0x02, 0x00, 0x05])
            #expect(try await pub.exchange([0x62, 0x02, 0x00, 0x05]) == [0x70, 0x02, 0x00, 0x05])
            try await pub.send(Wire.publish("x", "next"))
            #expect(await sub.nextPacket() == Wire.publish("x", "once", qos: 1, id: 1))
            #expect(await sub.nextPacket() == Wire.publish("x", "next"))
        }
    }

    @Test("Retained messages: kept per topic, sent on SUBSCRIBE with RETAIN set, deleted by an empty payload")
    func retained() async throws {
        try await withBroker { broker, group in
            let live = try await Peer.connect(broker, group: group, clientID: "live")
            _ = try await live.exchange(Wire.subscribe(id: 1, [("r/#", 1)]))
            let pub = try await Peer.connect(broker, group: group, clientID: "pub")
            try await pub.send(Wire.publish("r/a", "old", retain: true))
            try await pub.send(Wire.publish("r/a", "new", retain: true))
            #expect(try await pub.exchange(Wire.publish("r/b", "bee", qos: 1, id: 9, retain: true))
                == [0x40, 0x02, 0x00, 0x09])
            // Live deliveries have RETAIN cleared.
            #expect(await live.nextPacket() == Wire.publish("r/a", "old"))
            #expect(await live.nextPacket() == Wire.publish("r/a", "new"))
            #expect(await live.nextPacket() == Wire.publish("r/b", "bee", qos: 1, id: 1))
            #expect(broker.retainedTopics == ["r/a", "r/b"])

            let late = try await Peer.connect(broker, group: group, clientID: "late")
            #expect(try await late.exchange(Wire.subscribe(id: 3, [("r/a", 1)])) == [0x90, 0x03, 0x00, 0x03, 0x01])
            #expect(await late.nextPacket() == Wire.publish("r/a", "new", retain: true))
            let late5 = try await Peer.connect(broker, group: group, clientID: "late5", level: 5)
            _ = try await late5.exchange(Wire.subscribe(id: 3, [("r/b", 1)], level: 5))
            #expect(await late5.nextPacket() == Wire.publish("r/b", "bee", qos: 1, id: 1, retain: true, level: 5))

            try await pub.send(Wire.publish("r/a", "", retain: true))
            #expect(await eventually { broker.retainedTopics == ["r/b"] })
            let later = try await Peer.connect(broker, group: group, clientID: "later")
            _ = try await later.exchange(Wire.subscribe(id: 4, [("r/a", 0)]))
            // Nothing retained for r/a any more: the next packet is the answer to our ping.
            #expect(try await later.exchange(Wire.pingreq) == Wire.pingresp)
        }
    }

    @Test("A will is published when a client vanishes, not after DISCONNECT")
    func will() async throws {
        try await withBroker { broker, group in
            let watcher = try await Peer.connect(broker, group: group, clientID: "watcher")
            _ = try await watcher.exchange(Wire.subscribe(id: 1, [("wills/#", 0)]))
            for (id, polite) in [("rude", false), ("polite", true)] {
                let connect = ConnectPacket(clientID: id, will: Will(topic: "wills/\(id)", payload: Array("gone".utf8)))
                let peer = try await Peer.open(broker, group: group)
                #expect(try await peer.exchange(Array(connect.encoded.readableBytesView)) == Wire.connackV3)
                if polite { try await peer.send(Wire.disconnect) }
                await peer.close()
            }
            #expect(await watcher.nextPacket() == Wire.publish("wills/rude", "gone"))
            #expect(await eventually { broker.connectedClients == ["watcher"] })
            #expect(await watcher.nextPacket(timeout: 0.3) == nil)
        }
    }

    @Test("Unsubscribed filters stop delivery")
    func unsubscribeStopsDelivery() async throws {
        try await withBroker { broker, group in
            let sub = try await Peer.connect(broker, group: group, clientID: "sub")
            _ = try await sub.exchange(Wire.subscribe(id: 1, [("t", 0), ("end", 0)]))
            _ = try await sub.exchange(Wire.unsubscribe(id: 2, ["t"]))
            let pub = try await Peer.connect(broker, group: group, clientID: "pub")
            try await pub.send(Wire.publish("t", "dropped"))
            try await pub.send(Wire.publish("end", "."))
            #expect(await sub.nextPacket() == Wire.publish("end", "."))
        }
    }

    @Test("events() reports connects, subscriptions, publishes, disconnects, kill and revive")
    func events() async throws {
        try await withBroker { broker, group in
            var events = broker.events().makeAsyncIterator()
            let sub = try await Peer.connect(broker, group: group, clientID: "s")
            _ = try await sub.exchange(Wire.subscribe(id: 1, [("e/#", 0)]))
            let pub = try await Peer.connect(broker, group: group, clientID: "p")
            try await pub.send(Wire.publish("e/1", "x"))
            _ = await sub.nextPacket()
            try await pub.send(Wire.disconnect)
            var seen: [DemoBrokerEvent] = []
            while let event = await events.next() {
                seen.append(event)
                if case .disconnected = event { break }
            }
            await broker.kill()
            try await broker.revive()
            while let event = await events.next() {
                seen.append(event)
                if event == .revived { break }
            }
            #expect(seen == [
                .connected(clientID: "s"), .subscribed(clientID: "s", filters: ["e/#"]), .connected(clientID: "p"),
                .published(topic: "e/1", clientID: "p", recipients: 1),
                .disconnected(clientID: "p", reason: "DISCONNECT"),
                .disconnected(clientID: "s", reason: "broker killed"), .killed, .revived,
            ])
        }
    }
}
