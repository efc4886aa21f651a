import NIOCore

extension ConnectPacket {
    /// Appends this CONNECT to `buffer` in the layout of its protocol level (MQTT 5 layout for level 5).
    ///
    /// The will, username and password flag bits are written from the presence of those fields; the other
    /// flags are written as they are. `byteCount` is ignored.
    public func write(to buffer: inout ByteBuffer) {
        var body = ByteBuffer()
        body.writeMQTTString(protocolName)
        body.writeInteger(protocolLevel)
        var wireFlags = flags
        wireFlags.remove([.will, .username, .password])
        if will != nil { wireFlags.insert(.will) }
        if username != nil { wireFlags.insert(.username) }
        if password != nil { wireFlags.insert(.password) }
        body.writeInteger(wireFlags.rawValue)
        body.writeInteger(keepAlive)
        if isMQTT5 {
            MQTTProperty.write(properties, to: &body)
        }
        body.writeMQTTString(clientID)
        if let will {
            if isMQTT5 {
                MQTTProperty.write(will.properties, to: &body)
            }
            body.writeMQTTString(will.topic)
            body.writeMQTTBinary(will.payload)
        }
        if let username {
            body.writeMQTTString(username)
        }
        if let password {
            body.writeMQTTBinary(password)
        }
        MQTTFrame(type: .connect, body: body).write(to: &buffer)
    }

    /// This CONNECT's bytes.
    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        write(to: &buffer)
        return buffer
    }
}
