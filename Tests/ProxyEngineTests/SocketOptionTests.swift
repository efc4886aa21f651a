import NIOCore
import NIOPosix
@testable import ProxyEngine
import ProxyModel
import ProxyTestSupport
import Testing

/// The socket options are set straight on the channels (not through the bootstraps' option lists), and on
/// Linux the accepted socket's TCP_NODELAY comes from the listener: check what the relayed socket really has.
@Suite("Socket options of relayed connections")
struct SocketOptionTests {
    @Test func anAcceptedConnectionHasNoDelayHalfClosureAndSmallReadBuffers() async throws {
        try await withEventLoopGroup { group in
            let node = try await RecordingUpstream.start(group: group)
            let proxy = try await ProxyHarness.start(
                resources: .with(routes: [("1", mqttRoute(type: "roundrobin", nodes: [node]))]), group: group)
            let client = try await proxy.client()
            try await client.send(ConnectBytes.make(clientID: "options"))
            _ = await client.waitForBytes(11)
            let info = try #require(proxy.engine.snapshot().connections.first)
            let channel = try #require(proxy.engine.registry.liveConnection(info.id)?.channel)
            // getOption reads TCP_NODELAY back from the kernel (getsockopt), so this sees the inherited value.
            #expect(try await channel.getOption(.tcpOption(.tcp_nodelay)).get() != 0)
            #expect(try await channel.getOption(.allowRemoteHalfClosure).get() == true)
            let allocator = try #require(
                try await channel.getOption(.recvAllocator).get() as? AdaptiveRecvByteBufferAllocator)
            #expect(allocator.minimum == ProxyEngine.receiveAllocator.minimum)
            #expect(allocator.maximum == ProxyEngine.receiveAllocator.maximum)
            await client.close()
            await proxy.stop()
            await node.stop()
        }
    }
}
