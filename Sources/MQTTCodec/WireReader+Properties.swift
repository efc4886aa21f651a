/// Where a property section sits, which decides the identifiers it may hold.
enum PropertySection {
    /// The CONNECT variable header (MQTT 5 §3.1.2.11).
    case connect
    /// The will properties in the CONNECT payload (MQTT 5 §3.1.3.2).
    case will

    /// Name used in error messages.
    var name: String {
        switch self {
        case .connect: "CONNECT properties"
        case .will: "will properties"
        }
    }

    /// Whether `identifier` may appear in this section.
    func allows(_ identifier: MQTTProperty.Identifier) -> Bool {
        switch self {
        case .connect:
            switch identifier.rawValue {
            case 0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x26, 0x27: true
            default: false
            }
        case .will:
            switch identifier.rawValue {
            case 0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26: true
            default: false
            }
        }
    }

    /// Rejects values the spec calls a protocol error.
    func validate(_ property: MQTTProperty) throws(ParseStop) {
        switch (property.identifier, property.value) {
        case (.receiveMaximum, .twoByteInteger(0)), (.maximumPacketSize, .fourByteInteger(0)):
            throw .malformed("\(property.identifier) of 0 is a protocol error")
        case (.requestResponseInformation, .byte(let flag)), (.requestProblemInformation, .byte(let flag)),
             (.payloadFormatIndicator, .byte(let flag)):
            if flag > 1 {
                throw .malformed("\(property.identifier) of \(flag) is a protocol error (must be 0 or 1)")
            }
        default:
            break
        }
    }
}

extension WireReader {
    /// Reads an MQTT 5 property section: a variable byte integer length, then exactly that many bytes of
    /// properties. Unknown, misplaced or repeated identifiers (other than User Property) are malformed.
    mutating func readProperties(_ section: PropertySection) throws(ParseStop) -> [MQTTProperty] {
        let length = try readVariableByteInteger("\(section.name) length")
        try checkFits(length, "\(section.name) (\(length) bytes)")
        let outerLimit = limit
        let outerName = limitName
        limit = index + length
        limitName = section.name
        var properties: [MQTTProperty] = []
        // One allocation for the list instead of one per doubling (a property takes at least 2 bytes).
        if length > 0 { properties.reserveCapacity(min(length / 2, 16)) }
        var seen: UInt64 = 0
        while index < limit {
            let raw = try readUInt8("property identifier")
            let identifier = MQTTProperty.Identifier(rawValue: raw)
            guard let definition = identifier.definition else {
                throw .malformed("unknown property identifier 0x\(hex(raw)) in \(section.name)")
            }
            guard section.allows(identifier) else {
                throw .malformed("\(identifier) is not allowed in \(section.name)")
            }
            if identifier != .userProperty {
                let bit: UInt64 = 1 << (raw & 0x3F)
                if seen & bit != 0 {
                    throw .malformed("\(identifier) appears twice in \(section.name)")
                }
                seen |= bit
            }
            let property = MQTTProperty(identifier, try readPropertyValue(definition.kind, identifier))
            try section.validate(property)
            properties.append(property)
        }
        limit = outerLimit
        limitName = outerName
        let hasData = seen & (1 << MQTTProperty.Identifier.authenticationData.rawValue) != 0
        let hasMethod = seen & (1 << MQTTProperty.Identifier.authenticationMethod.rawValue) != 0
        if hasData && !hasMethod {
            throw .malformed("Authentication Data (0x16) without Authentication Method (0x15)")
        }
        return properties
    }

    /// Reads one property value of the given kind.
    mutating func readPropertyValue(
        _ kind: MQTTProperty.ValueKind,
        _ identifier: MQTTProperty.Identifier
    ) throws(ParseStop) -> MQTTProperty.Value {
        switch kind {
        case .byte: .byte(try readUInt8("\(identifier)"))
        case .twoByteInteger: .twoByteInteger(try readUInt16("\(identifier)"))
        case .fourByteInteger: .fourByteInteger(try readUInt32("\(identifier)"))
        case .variableByteInteger: .variableByteInteger(try readVariableByteInteger("\(identifier)"))
        case .string: .string(try readString("\(identifier)"))
        case .binary: .binary(try readBinary("\(identifier)"))
        case .stringPair: .stringPair(try readString("\(identifier) name"), try readString("\(identifier) value"))
        }
    }
}
