import Foundation

/// A frame as plain text: the screen dump (`W`) and `mqtt-proxy console --once` print grids this way.
public enum ScreenDump {
    /// The grid's rows, trailing blanks trimmed, one line each, ending with a newline.
    public static func text(_ grid: CellGrid) -> String {
        grid.lines.joined(separator: "\n") + "\n"
    }

    /// `mqtt-proxy-screen-20261202-170512.txt` (UTC) for the dump taken at `date`.
    static func fileName(at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "mqtt-proxy-screen-\(formatter.string(from: date)).txt"
    }
}
