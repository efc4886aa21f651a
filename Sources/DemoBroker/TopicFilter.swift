/// Matching MQTT topic names against topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7); their validity is the codec's
/// (`MQTTTopic`).
///
/// Levels are separated by `/`; in a filter `+` stands for exactly one level and `#`, which must be the last
/// level, for any number of levels including none (`a/#` matches `a`). Topics starting with `$` (such as
/// `$SYS/...`) are not matched by a filter whose first level is a wildcard.
public enum TopicFilter {
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
