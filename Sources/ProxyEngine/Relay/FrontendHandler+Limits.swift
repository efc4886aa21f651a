import MQTTCodec
import NIOCore
import ProxyControl
import ProxyModel
import ProxyProtocol

extension FrontendHandler {
    /// The limits a connection meets before a broker is tried: `max_connections` (global and per listener), the
    /// route's `connect_rate`, then its `limit-conn`. A refusal is answered in MQTT when the CONNECT is known.
    func admitAndConnect(context: ChannelHandlerContext, route: CompiledRoute, packet: ConnectPacket?,
                         buffer: ByteBuffer?)
    {
        if case .overLimit(let why) = admission {
            return reject(context: context, .overLimit, why, reply: refusal(packet, .quotaExceeded))
        }
        if let bucket = route.limits?.connectRate, !bucket.take() {
            return reject(context: context, .connectRate,
                          "more than \(bucket.rate) CONNECTs per second (burst \(bucket.burst)) on route \(route.route.id)",
                          reply: refusal(packet, .connectionRateExceeded))
        }
        var delay = 0.0
        if let limiter = route.limits?.connections {
            let key = variables(packet).limitKey(limiter)
            switch limiter.acquire(key) {
            case .refused(let count):
                let c = limiter.config
                return reject(context: context, .limitConn,
                              "limit-conn: connection \(count) with key \(key), over conn \(c.conn) + burst \(c.burst)",
                              reply: refusal(packet, .quotaExceeded))
            case .admitted(let wait, _):
                delay = wait
                context.channel.closeFuture.whenComplete { _ in limiter.release(key) }
            }
        }
        beginConnecting(context: context, route: route, packet: packet, buffer: buffer, delay: delay)
    }

    /// The CONNACK refusing the client: 3.1 and 3.1.1 get 0x03 (server unavailable), MQTT 5 gets `v5`; nil on
    /// plain TCP routes (no CONNECT, nothing MQTT to answer).
    func refusal(_ packet: ConnectPacket?, _ v5: ReasonCode) -> [UInt8]? {
        packet.map { ConnackEncoder.reject(forClientLevel: $0.protocolLevel, v3: .serverUnavailable, v5: v5) }
    }

    /// What chash and `limit-conn` keys can name about this connection.
    func variables(_ packet: ConnectPacket?) -> ConnectionVariables {
        ConnectionVariables(addresses: addresses, clientID: clientID, username: packet?.username, tls: tlsDetails)
    }

    /// The PROXY protocol header for this connection's brokers: the upstream's `proxy_protocol`, else v1 when the
    /// listener has `proxy_protocol_to_upstream`; nil when neither asks for one.
    func proxyPreface(route: CompiledRoute) -> ByteBuffer? {
        guard let version = route.proxyProtocol ?? (env.listener.sendsProxyHeader ? .v1 : nil) else { return nil }
        var tlvs: [ProxyTLV] = []
        if version == .v2 {
            if let tls = tlsDetails {
                if let sni = tls.sni { tlvs.append(ProxyTLV(type: ProxyTLV.authority, value: Array(sni.utf8))) }
                let ssl = ProxySSLInfo(tlsVersion: tls.version, certificateVerified: tls.clientSubject != nil,
                                       verifiedCN: tls.clientCN)
                tlvs.append(ProxyTLV(type: ProxyTLV.ssl, value: ssl.tlvValue))
            } else if let received = proxyHeader {
                // TLS ended at the load balancer in front: pass on what it told.
                tlvs = received.tlvs.filter { $0.type == ProxyTLV.authority || $0.type == ProxyTLV.ssl }
            }
        }
        let header = ProxyHeader(version: version == .v1 ? 1 : 2, source: addresses.remote,
                                 destination: addresses.local, tlvs: tlvs)
        return ByteBuffer(bytes: header.encoded())
    }
}
