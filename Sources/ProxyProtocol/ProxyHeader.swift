import NIOCore

/// A PROXY protocol header (HAProxy's `proxy-protocol.txt`, versions 1 and 2): who the client really is, told by
/// the load balancer in front to the server behind it, before any of the connection's own bytes.
public struct ProxyHeader: Sendable, Hashable {
    /// What the sender says about the connection.
    public enum Command: Sendable, Hashable {
        /// The sender opened the connection itself (a health check): the receiver uses the socket's own addresses.
        case local
        /// The connection is relayed for the client at `source`.
        case proxy
    }

    public var version: Int
    public var command: Command
    /// The client's address and port; nil for LOCAL, `UNKNOWN` and unsupported families (the socket's own apply).
    public var source: SocketAddress?
    /// The address and port the client connected to; nil when `source` is.
    public var destination: SocketAddress?
    /// Version 2's type-length-value extensions, in the order received.
    public var tlvs: [ProxyTLV]

    public init(version: Int, command: Command = .proxy, source: SocketAddress?, destination: SocketAddress?,
                tlvs: [ProxyTLV] = [])
    {
        self.version = version
        self.command = command
        self.source = source
        self.destination = destination
        self.tlvs = tlvs
    }

    /// The `PP2_TYPE_AUTHORITY` value (the host name the client asked for: its TLS SNI).
    public var authority: String? {
        tlvs.first { $0.type == ProxyTLV.authority }.map { String(decoding: $0.value, as: UTF8.self) }
    }

    /// The `PP2_TYPE_SSL` value, decoded.
    public var ssl: ProxySSLInfo? {
        tlvs.first { $0.type == ProxyTLV.ssl }.flatMap { ProxySSLInfo(tlvValue: $0.value) }
    }
}

/// One version 2 extension: a type byte and its value (at most 65,535 bytes).
public struct ProxyTLV: Sendable, Hashable {
    public var type: UInt8
    public var value: [UInt8]

    public init(type: UInt8, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    /// `PP2_TYPE_ALPN`.
    public static let alpn: UInt8 = 0x01
    /// `PP2_TYPE_AUTHORITY`: the host name (SNI), UTF-8.
    public static let authority: UInt8 = 0x02
    /// `PP2_TYPE_CRC32C`: a CRC-32C of the whole header with this value zeroed.
    public static let crc32c: UInt8 = 0x03
    /// `PP2_TYPE_NOOP`: padding.
    public static let noop: UInt8 = 0x04
    /// `PP2_TYPE_UNIQUE_ID`.
    public static let uniqueID: UInt8 = 0x05
    /// `PP2_TYPE_SSL`: TLS facts of the client connection, with sub-extensions.
    public static let ssl: UInt8 = 0x20
    /// `PP2_SUBTYPE_SSL_VERSION`: "TLSv1.3".
    public static let sslVersion: UInt8 = 0x21
    /// `PP2_SUBTYPE_SSL_CN`: the client certificate's subject common name.
    public static let sslCN: UInt8 = 0x22
    /// `PP2_SUBTYPE_SSL_CIPHER`.
    public static let sslCipher: UInt8 = 0x23

    /// The TLV as it goes on the wire: type, big-endian length, value.
    var encoded: [UInt8] {
        [type, UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
    }
}

/// The value of a `PP2_TYPE_SSL` extension: whether the client used TLS and sent a verified certificate.
public struct ProxySSLInfo: Sendable, Hashable {
    /// `PP2_CLIENT_SSL`: the client connected over TLS.
    public static let clientSSL: UInt8 = 0x01
    /// `PP2_CLIENT_CERT_CONN`: the client presented a certificate on this connection.
    public static let clientCertConnection: UInt8 = 0x02
    /// `PP2_CLIENT_CERT_SESS`: the client presented a certificate at least once in this TLS session.
    public static let clientCertSession: UInt8 = 0x04

    /// The `client` bit field.
    public var client: UInt8
    /// 0 when the client's certificate was presented and verified; anything else when not.
    public var verify: UInt32
    /// TLS version text ("TLSv1.3").
    public var version: String?
    /// The verified client certificate's common name.
    public var commonName: String?

    public init(client: UInt8, verify: UInt32, version: String?, commonName: String?) {
        self.client = client
        self.verify = verify
        self.version = version
        self.commonName = commonName
    }

    /// The facts of a TLS client connection: `verifiedCN` is the CN of a certificate the listener verified.
    public init(tlsVersion: String, certificateVerified: Bool, verifiedCN: String?) {
        client = ProxySSLInfo.clientSSL
            | (certificateVerified ? ProxySSLInfo.clientCertConnection | ProxySSLInfo.clientCertSession : 0)
        verify = certificateVerified ? 0 : 1
        version = tlsVersion
        commonName = certificateVerified ? verifiedCN : nil
    }

    /// The extension's value: client, verify, then the version and CN sub-extensions.
    public var tlvValue: [UInt8] {
        var out = [client, UInt8(verify >> 24), UInt8((verify >> 16) & 0xFF), UInt8((verify >> 8) & 0xFF),
                   UInt8(verify & 0xFF)]
        if let version { out += ProxyTLV(type: ProxyTLV.sslVersion, value: Array(version.utf8)).encoded }
        if let commonName { out += ProxyTLV(type: ProxyTLV.sslCN, value: Array(commonName.utf8)).encoded }
        return out
    }

    /// Decodes an extension's value; nil when it is shorter than its fixed part or its sub-extensions overrun it.
    public init?(tlvValue bytes: [UInt8]) {
        guard bytes.count >= 5 else { return nil }
        client = bytes[0]
        verify = UInt32(bytes[1]) << 24 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 8 | UInt32(bytes[4])
        guard let subs = ProxyTLV.parseList(bytes[5...]) else { return nil }
        version = subs.first { $0.type == ProxyTLV.sslVersion }.map { String(decoding: $0.value, as: UTF8.self) }
        commonName = subs.first { $0.type == ProxyTLV.sslCN }.map { String(decoding: $0.value, as: UTF8.self) }
    }
}

extension ProxyTLV {
    /// Splits bytes into TLVs; nil when one overruns the end.
    static func parseList(_ bytes: ArraySlice<UInt8>) -> [ProxyTLV]? {
        var out: [ProxyTLV] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            guard bytes.endIndex - i >= 3 else { return nil }
            let length = Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            let start = i + 3
            guard bytes.endIndex - start >= length else { return nil }
            out.append(ProxyTLV(type: bytes[i], value: Array(bytes[start..<start + length])))
            i = start + length
        }
        return out
    }
}
