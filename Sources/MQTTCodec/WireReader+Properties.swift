import NIOCore

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
    /// Validates an MQTT 5 property section (a variable byte integer length, then exactly that many bytes of
    /// properties) and returns its contents as a slice of the input, without building any value.
    mutating func readPropertySection(_ section: PropertySection) throws(ParseStop) -> ByteBuffer {
        let length = try readVariableByteInteger("\(section.name) length")
        try checkFits(length, "\(section.name) (\(length) bytes)")
        let start = index
        var none: [MQTTProperty]? = nil
        try scanProperties(section, length: length, into: &none)
        guard let slice = buffer.getSlice(at: start, length: length) else { throw .needMoreBytes }
        return slice
    }

    /// Reads an MQTT 5 property section into values. Unknown, misplaced or repeated identifiers (other than
    /// User Property) are malformed.
    mutating func readProperties(_ section: PropertySection) throws(ParseStop) -> [MQTTProperty] {
        let length = try readVariableByteInteger("\(section.name) length")
        try checkFits(length, "\(section.name) (\(length) bytes)")
        var properties: [MQTTProperty]? = []
        // One allocation for the list instead of one per doubling (a property takes at least 2 bytes).
        if length > 0 { properties?.reserveCapacity(min(length / 2, 16)) }
        try scanProperties(section, length: length, into: &properties)
        return properties ?? []
    }

    /// Walks `length` bytes of properties, checking every rule; appends each property to `properties` unless it
    /// is nil (validation only: strings and binary values are checked in place, nothing is allocated).
    mutating func scanProperties(_ section: PropertySection, length: Int,
                                 into properties: inout [MQTTProperty]?) throws(ParseStop)
    {
        let outerLimit = limit
        let outerName = limitName
        limit = index + length
        limitName = section.name
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
            if properties != nil {
                let property = MQTTProperty(identifier, try readPropertyValue(definition.kind, identifier))
                try section.validate(property)
                properties!.append(property)
            } else {
                try skipPropertyValue(definition.kind, identifier, section)
            }
        }
        limit = outerLimit
        limitName = outerName
        let hasData = seen & (1 << MQTTProperty.Identifier.authenticationData.rawValue) != 0
        let hasMethod = seen & (1 << MQTTProperty.Identifier.authenticationMethod.rawValue) != 0
        if hasData && !hasMethod {
            throw .malformed("Authentication Data (0x16) without Authentication Method (0x15)")
        }
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

    /// Checks one property value in place: numbers are validated as values, strings as UTF-8, binary by length.
    mutating func skipPropertyValue(
        _ kind: MQTTProperty.ValueKind,
        _ identifier: MQTTProperty.Identifier,
        _ section: PropertySection
    ) throws(ParseStop) {
        switch kind {
        case .byte, .twoByteInteger, .fourByteInteger, .variableByteInteger:
            try section.validate(MQTTProperty(identifier, try readPropertyValue(kind, identifier)))
        case .string:
            _ = try readStringSlice("\(identifier)")
        case .binary:
            _ = try readBinarySlice("\(identifier)")
        case .stringPair:
            _ = try readStringSlice("\(identifier) name")
            _ = try readStringSlice("\(identifier) value")
        }
    }
}

extension MQTTProperty {
    /// The values of a property section that the decoder has already validated (section contents, no length).
    static func parseValidated(_ contents: ByteBuffer, _ section: PropertySection) -> [MQTTProperty] {
        guard contents.readableBytes > 0 else { return [] }
        var reader = WireReader(contents)
        var properties: [MQTTProperty]? = []
        do throws(ParseStop) {
            try reader.scanProperties(section, length: contents.readableBytes, into: &properties)
        } catch {
            preconditionFailure("a validated property section failed to parse: \(error)")
        }
        return properties ?? []
    }
}
