import Foundation
import Logging
import ProxyControl
import RouteStore
import ServiceLifecycle

/// The operator console as a service: runs the terminal UI on its own thread next to the engine and the
/// admin API. It returns when the operator quits (put it in the group with `successTerminationBehavior:
/// .gracefullyShutdownGroup` so quitting stops the proxy) and gives the terminal back on graceful shutdown
/// (SIGINT/SIGTERM), on errors, on exit and on crashes.
public final class ConsoleService: Service, Sendable {
    private let engine: any EngineControl
    private let store: any RouteStore
    private let readonly: Bool
    private let adminAddress: @Sendable () -> String?
    private let logger: Logger
    private let demo: (any DemoControl)?

    /// `adminAddress` is read for every frame's header (nil until the admin API listens).
    /// `demo` turns on demo mode (its keys and their requests).
    public init(engine: any EngineControl, store: any RouteStore, readonly: Bool, logger: Logger,
                adminAddress: @escaping @Sendable () -> String? = { nil }, demo: (any DemoControl)? = nil)
    {
        self.demo = demo
        self.engine = engine
        self.store = store
        self.readonly = readonly
        self.adminAddress = adminAddress
        self.logger = logger
    }

    /// What stands in the way of showing the console here (no TTY, `TERM` unset, `dumb` or unknown), or nil.
    /// Call it before starting anything; it does not touch the screen.
    public static func terminalProblem() -> String? { CursesScreen.terminalProblem() }

    public func run() async throws {
        let changes = await store.changes()
        let bridge = ConsoleBridge(store: changes.initial)
        bridge.storeStatusChanged(await store.status())
        let env = ConsoleEnvironment(engine: engine, store: store, bridge: bridge, adminAddress: adminAddress,
                                     logger: logger, demo: demo)
        let readonly = self.readonly
        let outcome = await withTaskGroup(of: Void.self) { group -> Result<Void, ConsoleTerminalError> in
            group.addTask {
                for await event in changes.updates {
                    switch event {
                    case .changed(let snapshot, _, _, _), .reloaded(let snapshot): bridge.storeChanged(snapshot)
                    case .reloadRejected: break
                    case .statusChanged(let status): bridge.storeStatusChanged(status)
                    }
                }
            }
            let outcome = await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let thread = Thread {
                            continuation.resume(returning: ConsoleService.runUI(env: env, readonly: readonly))
                        }
                        thread.name = "mqtt-proxy-console"
                        thread.start()
                    }
                } onCancel: {
                    bridge.requestStop()
                }
            } onGracefulShutdown: {
                bridge.requestStop()
            }
            group.cancelAll()
            return outcome
        }
        try outcome.get()
        let snapshot = engine.snapshot()
        let open = snapshot.openConnections
        if open > 0, !snapshot.isAttached {
            let drain = snapshot.drainTimeout
            FileHandle.standardError.write(Data(
                "mqtt-proxy: console closed; draining \(open) open connection(s) for up to \(drain) s\n".utf8))
        }
    }

    /// The body of the UI thread: owns the curses screen from start to restore.
    private static func runUI(env: ConsoleEnvironment, readonly: Bool) -> Result<Void, ConsoleTerminalError> {
        if env.bridge.stopRequested { return .success(()) }
        let screen: CursesScreen
        do {
            screen = try CursesScreen()
        } catch {
            return .failure(error)
        }
        defer { screen.restore() }
        env.logger.notice("console started\(readonly ? " (read-only)" : "")")
        let loop = ConsoleLoop(screen: screen, controller: ConsoleController(readonly: readonly, demo: env.demo != nil), env: env)
        loop.run()
        env.logger.notice(loop.quitRequested ? "console: operator quit" : "console: stopping with the service")
        return .success(())
    }
}
