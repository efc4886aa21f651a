import Foundation
import ProxyControl
import RouteStore

/// `mqtt-proxy console --once`: one frame of a view as plain text, for scripts, CI and bug reports. The same
/// controller and views as the live console draw it, with no terminal involved.
public enum OnceRender {
    /// The frame of `view` at `width`×`height` over the engine's snapshot and the store's routes.
    public static func text(engine: any EngineControl, store: StoreSnapshot, view: ViewKind, width: Int, height: Int,
                            adminAddress: String? = nil, readonly: Bool = false) -> String
    {
        let controller = ConsoleController(readonly: readonly)
        let frame = data(engine, store, adminAddress)
        _ = controller.handle(.char(Character(String(view.rawValue))), data: frame)
        let grid = controller.render(data: frame, width: width, height: height)
        return ScreenDump.text(grid)
    }

    /// The size to print at: `WxH` when given (at least 20×6), else the terminal's (`COLUMNS`/`LINES`), else 80×24.
    public static func size(_ text: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (width: Int, height: Int)
    {
        if let text {
            let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 20, parts[1] >= 6 else {
                throw OnceError("--size must be WIDTHxHEIGHT, at least 20x6 (e.g. 80x24), not \(text)")
            }
            return (parts[0], parts[1])
        }
        let width = environment["COLUMNS"].flatMap(Int.init).map { max(20, $0) } ?? 80
        let height = environment["LINES"].flatMap(Int.init).map { max(6, $0) } ?? 24
        return (width, height)
    }

    private static func data(_ engine: any EngineControl, _ store: StoreSnapshot, _ admin: String?) -> ConsoleData {
        ConsoleData(engine: engine.snapshot(), resources: store.resources, storeRevision: store.revision,
                    now: Date().timeIntervalSince1970, adminAddress: admin)
    }
}

/// A bad `--once` argument.
public struct OnceError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
