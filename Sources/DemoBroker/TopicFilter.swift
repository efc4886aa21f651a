/// MQTT topic names and topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7): validation and matching.
///
/// Levels are separated by `/`; in a filter `+` stands for exactly one level and `#`, which must be the last
/// level, for any number of levels including none (`a/#` matches `a`). Topics starting with `$` (such as
/// `$SYS/...`) are not matched by a filter whose first level is a wildcard.
public enum TopicFilter {
    /// Whether `topic` may be used in a PUBLISH: non-empty, without `+`, `#` or U+0000.
    public static func isValidTopicName(_ topic: String) -> Bool {
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

    /// Whether the topic name `topic` matches the (valid) topic filter `filter`.
    public static func matches(filter: String, topic: String) -> Bool {
        let filterLevels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let topicLevels = topic.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if topic.utf8.first == UInt8(ascii: "$"), let first = filterLevels.first,
           first.elementsEqual("+".utf8) || first.elementsEqual("#".utf8)
        {
            return false
        }
        var index = 0
        while index < filterLevels.count {
            let level = filterLevels[index]
            if level.elementsEqual("#".utf8) {
                return true
            }
            guard index < topicLevels.count else { return false }
            if !level.elementsEqual("+".utf8) && !level.elementsEqual(topicLevels[index]) {
                return false
            }
            index += 1
        }
        return index == topicLevels.count
    }
}
