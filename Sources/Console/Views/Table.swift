import Foundation

/// A column of a table view.
struct Column {
    var title: String
    var minWidth: Int
    /// Share of the spare width this column takes.
    var flex: Int = 0
    /// Lower numbers are dropped first when the terminal is narrow.
    var priority: Int = 5
    var rightAligned = false
}

/// Fits columns into a width: drops the lowest-priority columns until the rest fit, then spreads the
/// spare width by `flex`. Returns the indexes of the visible columns and their widths.
enum Table {
    static func layout(_ columns: [Column], width: Int) -> [(index: Int, width: Int)] {
        var visible = Array(columns.indices)
        func needed() -> Int { visible.reduce(0) { $0 + columns[$1].minWidth } + max(0, visible.count - 1) }
        while needed() > width, visible.count > 1 {
            let drop = visible.min { columns[$0].priority < columns[$1].priority || (columns[$0].priority
                == columns[$1].priority && $0 > $1) }!
            visible.removeAll { $0 == drop }
        }
        var spare = max(0, width - needed())
        let flexTotal = visible.reduce(0) { $0 + columns[$1].flex }
        var widths = visible.map { columns[$0].minWidth }
        if flexTotal > 0 {
            for (i, idx) in visible.enumerated() where columns[idx].flex > 0 {
                let extra = spare * columns[idx].flex / flexTotal
                widths[i] += extra
            }
            spare = max(0, width - (widths.reduce(0, +) + max(0, visible.count - 1)))
            if let last = visible.lastIndex(where: { columns[$0].flex > 0 }) { widths[last] += spare }
        }
        return zip(visible, widths).map { ($0, $1) }
    }

    /// Draws one row of cells at `row` using a layout.
    static func drawRow(_ grid: inout CellGrid, row: Int, layout: [(index: Int, width: Int)], columns: [Column],
                        values: [String], role: Role, roles: [Role?] = [])
    {
        var x = 0
        for (index, width) in layout {
            let text = values[index]
            let cellRole = roles.indices.contains(index) ? (roles[index] ?? role) : role
            if columns[index].rightAligned {
                let w = min(CellGrid.displayWidth(text), width)
                grid.put(text, row: row, column: x + width - w, role: cellRole, maxWidth: width)
            } else {
                grid.put(text, row: row, column: x, role: cellRole, maxWidth: width)
            }
            x += width + 1
        }
    }
}

/// Short human forms for numbers shown in tables.
enum Format {
    /// `5` for 5.0, `2.5` for 2.5.
    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(format: "%g", d)
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var v = Double(n)
        var u = 0
        while v >= 1024, u < units.count - 1 {
            v /= 1024
            u += 1
        }
        return u == 0 ? "\(n)B" : (v < 10 ? String(format: "%.1f%@", v, units[u]) : "\(Int(v))\(units[u])")
    }

    /// `14:03:07` (UTC) for a unix time.
    static func clock(_ time: Double) -> String {
        let seconds = Int(time) % 86_400
        return String(format: "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        if s < 86400 { return "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" }
        return "\(s / 86400)d\(s % 86400 / 3600)h"
    }

    /// A sparkline of values with ▁▂▃▄▅▆▇█.
    static func sparkline(_ values: [Double], width: Int) -> String {
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let tail = Array(values.suffix(width))
        guard let maxValue = tail.max(), maxValue > 0 else { return String(repeating: "▁", count: tail.count) }
        return String(tail.map { blocks[min(7, Int(($0 / maxValue) * 7.999))] })
    }

    /// A horizontal bar of `fraction` × `width` cells.
    static func bar(_ fraction: Double, width: Int) -> String {
        let eighths = Int((max(0, min(1, fraction)) * Double(width * 8)).rounded())
        let partial: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var s = String(repeating: "█", count: eighths / 8)
        if eighths % 8 > 0 { s.append(partial[eighths % 8]) }
        return s
    }
}
