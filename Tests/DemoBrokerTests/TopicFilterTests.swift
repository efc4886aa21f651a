import MQTTCodec
import DemoBroker
import Testing

/// Topic filter validation and matching, per MQTT 3.1.1 / 5 §4.7.
@Suite("Topic filters")
struct TopicFilterTests {
    @Test("Matching", arguments: [
        ("a/b/c", "a/b/c", true), ("a/b/c", "a/b", false), ("a/+/c", "a/b/c", true), ("a/+/c", "a/b/d", false),
        ("a/+", "a/", true), ("a/+", "a", false), ("+/+", "/x", true), ("+", "a/b", false),
        ("a/#", "a", true), ("a/#", "a/b/c", true), ("a/#", "ab", false), ("#", "a/b", true), ("#", "/", true),
        ("#", "$SYS/x", false), ("+/x", "$SYS/x", false), ("$SYS/#", "$SYS/x", true), ("$SYS/+", "$SYS/x", true),
        ("a/+/#", "a/b", true), ("sport/tennis/+", "sport/tennis/player1/ranking", false),
    ])
    func matching(filter: String, topic: String, expected: Bool) {
        #expect(TopicFilter.matches(filter: filter, topic: topic) == expected)
    }

    @Test("Filter validation")
    func filterValidation() {
        for valid in ["a", "#", "+", "a/#", "+/+", "/", "a//b", "$SYS/#", "a/+/c"] {
            #expect(MQTTTopic.isValidFilter(valid), "\(valid)")
        }
        for invalid in ["", "a/#/b", "a#", "a/b+", "#/", "+a", "a\u{0}b"] {
            #expect(!MQTTTopic.isValidFilter(invalid), "\(invalid)")
        }
    }

    @Test("Topic name validation")
    func topicNameValidation() {
        #expect(MQTTTopic.isValidName("a/b"))
        #expect(MQTTTopic.isValidName("/"))
        #expect(!MQTTTopic.isValidName(""))
        #expect(!MQTTTopic.isValidName("a/+"))
        #expect(!MQTTTopic.isValidName("a/#"))
    }
}
