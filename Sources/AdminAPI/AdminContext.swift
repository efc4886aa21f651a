import Hummingbird
import NIOCore

/// Request context of the admin server: the standard storage plus the client's address (for `allow_admin`).
public struct AdminContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The role of the key that authenticated this request (nil when keys are not required).
    public var role: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
