/// CONNACK codes as operators read them: `0x05`.
public enum ConnackLabel {
    public static func text(_ code: Int) -> String {
        let hex = String(code, radix: 16)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
