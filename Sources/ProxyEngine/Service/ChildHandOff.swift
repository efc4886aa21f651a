import NIOCore

/// Hands each accepted connection to its event loop in one hop. NIO's own acceptor takes three cross-thread
/// wake-ups per connection (to the child loop for its initializer, back to the listening loop, and to the child loop
/// again to register it); on a 2-core machine those wake-ups were the largest share of the proxy's scheduler time
/// per connection. This handler sits before NIO's acceptor on the listening channel and keeps accepted channels
/// from reaching it: on the child's loop it sets the pipeline up (`setUp`, synchronous) and registers the channel
/// as NIO does for an adopted, already-connected socket (`registerAlreadyConfigured0`, NIO's public channel-core
/// entry point: it registers the socket, activates the channel and starts reading). A `setUp` that throws closes
/// the connection unregistered, as NIO does when a child initializer fails.
final class ChildHandOff: ChannelInboundHandler {
    typealias InboundIn = Channel

    private let setUp: @Sendable (Channel) throws -> Void

    init(setUp: @escaping @Sendable (Channel) throws -> Void) {
        self.setUp = setUp
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        let setUp = self.setUp
        if child.eventLoop.inEventLoop {
            Self.start(child, setUp)
        } else {
            child.eventLoop.execute { Self.start(child, setUp) }
        }
    }

    private static func start(_ child: Channel, _ setUp: @Sendable (Channel) throws -> Void) {
        do {
            try setUp(child)
        } catch {
            child.close(promise: nil)
            return
        }
        child._channelCore.registerAlreadyConfigured0(promise: nil)
    }
}
