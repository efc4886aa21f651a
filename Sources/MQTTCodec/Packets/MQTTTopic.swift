/// Topic names and topic filters on the wire (MQTT 3.1.1 §4.7, MQTT 5 §4.7): what a PUBLISH or a SUBSCRIBE may
/// carry. (Matching a topic against a filter is a broker's business, not the codec's.)
public enum MQTTTopic {
    /// Whether `topic` may be used in a PUBLISH: non-empty, without `+`, `#` or U+0000.
    public static func isValidName(_ topic: String) -> Bool {
        !topic.isEmpty && !topic.utf8.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") || $0 == 0 }
    }

    /// Whether `filter` may be used in a SUBSCRIBE: non-empty, without U+0000, `+` alone in its level and `#`
    /// alone in the last level.
    public static func isValidFilter(_ filter: String) -> Bool {
        if filter.isEmpty || filter.utf8.contains(0) { return false }
        let levels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains(UInt8(ascii: "+")) && level.count != 1 { return false }
            if level.contains(UInt8(ascii: "#")) && (level.count != 1 || index != levels.count - 1) { return false }
        }
        return true
    }
}
