import MQTTCodec
import NIOCore
import NIOEmbedded
import ProxyControl
@testable import ProxyEngine
import ProxyModel
import Testing

/// Ending a relay (a drain's eviction, a shutdown) on embedded channels: DISCONNECTs only between packets.
@Suite("Relay ending at packet boundaries")
struct RelayEndingTests {
    let nodes = ["10.0.0.1:1883", "10.0.0.2:1883"]

    func relay(level: UInt8) throws -> FrontendRig {
        let rig = try FrontendRig(routes: [("1", plainRoute(level: Int(level), nodes: nodes))])
        try rig.activate()
        try rig.send(connectBytes("mover", level: level))
        _ = try rig.sentToBroker()
        #expect(!rig.frontHandlerPresent)
        return rig
    }

    func publish(_ size: Int, level: UInt8) -> [UInt8] {
        Array(PublishPacket(topic: "big/stream", payload: ByteBuffer(repeating: 0x5A, count: size))
            .encoded(protocolLevel: level).readableBytesView)
    }

    @Test("an MQTT 5 client mid-PUBLISH gets the rest of it, then DISCONNECT 0x9C with the Server Reference")
    func midPacketV5() throws {
        let rig = try relay(level: 5)
        let broker = rig.connector.brokers[0]
        let big = publish(70_000, level: 5)
        try broker.writeInbound(ByteBuffer(bytes: Array(big.prefix(1_000))))
        #expect(try rig.sentToClient().count == 1_000)
        try rig.client.pipeline.triggerUserOutboundEvent(RelayEnding(cause: .evicted, serverReference: "b2:1883")).wait()
        #expect(rig.client.isActive, "still inside a PUBLISH: nothing may be injected yet")
        // The broker's DISCONNECT went at once: the client's own stream was between packets.
        #expect(try rig.sentToBroker() == [])
        let next = publish(10, level: 5)
        try broker.writeInbound(ByteBuffer(bytes: Array(big.dropFirst(1_000)) + next))
        let expectedFarewell = DisconnectEncoder.v5(reasonCode: .useAnotherServer,
                                                    properties: [MQTTProperty(.serverReference, .string("b2:1883"))])
        #expect(try rig.sentToClient() == Array(big.dropFirst(1_000)) + expectedFarewell)
        #expect(try rig.sentToBroker() == DisconnectEncoder.v5())
        #expect(!rig.client.isActive && !broker.isActive)
        rig.loop.run()
        #expect(rig.snapshot.events.last?.message.contains("evicted") == true, "\(rig.snapshot.events.map(\.message))")
    }

    @Test("an MQTT 3.1.1 client is closed without a DISCONNECT; the broker still gets a normal one")
    func v311() throws {
        let rig = try relay(level: 4)
        let broker = rig.connector.brokers[0]
        try rig.client.pipeline.triggerUserOutboundEvent(RelayEnding(cause: .shutdown, serverReference: nil)).wait()
        #expect(try rig.sentToClient() == [])
        let toBroker = try rig.sentToBroker()
        #expect(toBroker == DisconnectEncoder.v3, "\(toBroker)")
        #expect(!rig.client.isActive && !broker.isActive)
    }

    @Test("the client mid-PUBLISH towards the broker: the broker's DISCONNECT waits for the packet's end")
    func clientMidPacket() throws {
        let rig = try relay(level: 5)
        let broker = rig.connector.brokers[0]
        let big = publish(5_000, level: 5)
        try rig.send(Array(big.prefix(100)))
        try rig.client.pipeline.triggerUserOutboundEvent(RelayEnding(cause: .shutdown, serverReference: nil)).wait()
        #expect(try rig.sentToBroker() == Array(big.prefix(100)))
        #expect(broker.isActive)
        try rig.send(Array(big.dropFirst(100)) + PacketEncoder.pingreq)
        #expect(try rig.sentToBroker() == Array(big.dropFirst(100)) + DisconnectEncoder.v5())
        #expect(try rig.sentToClient() == DisconnectEncoder.v5(reasonCode: .serverShuttingDown))
        #expect(!broker.isActive)
    }

    @Test("a packet that never ends: both sides are closed after the grace period, with nothing injected")
    func stuck() throws {
        let rig = try relay(level: 5)
        let broker = rig.connector.brokers[0]
        try broker.writeInbound(ByteBuffer(bytes: Array(publish(70_000, level: 5).prefix(10))))
        _ = try rig.sentToClient()
        try rig.client.pipeline.triggerUserOutboundEvent(RelayEnding(cause: .evicted, serverReference: nil)).wait()
        rig.loop.advanceTime(by: GlueHandler.endingGrace)
        #expect(!rig.client.isActive && !broker.isActive)
        #expect(try rig.sentToClient() == [])
    }

    @Test("the broker's CONNACK code is read as it passes, even split across reads")
    func connackCode() throws {
        let rig = try relay(level: 4)
        let broker = rig.connector.brokers[0]
        var codes: [UInt8] = []
        let glue = try rig.client.pipeline.syncOperations.handler(type: GlueHandler.self)
        glue.relay.onConnack = { codes.append($0) }
        try broker.writeInbound(ByteBuffer(bytes: [0x20, 0x02, 0x00]))
        #expect(codes.isEmpty)
        try broker.writeInbound(ByteBuffer(bytes: [0x05]))
        #expect(codes == [0x05])
        #expect(try rig.sentToClient() == [0x20, 0x02, 0x00, 0x05])
    }
}
