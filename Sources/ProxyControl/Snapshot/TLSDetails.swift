/// The TLS details of a relayed connection, as operators see them.
public struct TLSDetails: Sendable, Hashable {
    /// `TLSv1.2` or `TLSv1.3`.
    public var version: String
    public var sni: String?
    /// The ssl object that served the handshake.
    public var sslID: String?
    /// The verified client certificate's subject common name (mTLS).
    public var clientCN: String?
    /// The verified client certificate's DNS, e-mail, URI and IP subject alternative names.
    public var clientSANs: [String]
    /// The verified client certificate's whole subject, e.g. `CN=device-7,O=Fleet`.
    public var clientSubject: String?

    public init(version: String, sni: String?, sslID: String?, clientCN: String? = nil, clientSANs: [String] = [],
                clientSubject: String? = nil)
    {
        self.version = version
        self.sni = sni
        self.sslID = sslID
        self.clientCN = clientCN
        self.clientSANs = clientSANs
        self.clientSubject = clientSubject
    }
}
