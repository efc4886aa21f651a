import Foundation
import Logging
import ProxyControl
import RouteStore

/// What the UI loop needs from the rest of the process; all of it may be used from any thread.
struct ConsoleEnvironment: Sendable {
    var engine: any EngineControl
    var store: any RouteStore
    var bridge: ConsoleBridge
    var adminAddress: @Sendable () -> String?
    var logger: Logger
    /// Demo mode: the demo's brokers.
    var demo: (any DemoControl)?
}

/// The console's UI loop. It lives on one dedicated thread, the only one that calls curses: it waits for a
/// key for up to 100 ms, carries out the controller's commands, and redraws only when a key was handled, a
/// result arrived, the engine or store version changed, or a second passed (rates, ages).
final class ConsoleLoop {
    static let keyTimeout = 100
    static let resizeSettle = 0.05
    /// Shortest time between two redraws caused by engine or store changes (keys redraw at once): under
    /// constant connection churn the console draws at most 5 frames a second.
    static let minDataInterval = 0.2

    let screen: CursesScreen
    let controller: ConsoleController
    let env: ConsoleEnvironment
    private(set) var data: ConsoleData
    private var rates = ConnectRates()
    private var lastSample: Double
    private var lastDataRefresh: Double
    private var resizeDeadline: Double?
    private var needsFrame = true
    private var wasPaused = false
    var quitRequested = false

    init(screen: CursesScreen, controller: ConsoleController, env: ConsoleEnvironment) {
        self.screen = screen
        self.controller = controller
        self.env = env
        let snapshot = env.engine.snapshot()
        rates.sample(snapshot.routes, at: snapshot.takenAt)
        lastSample = ConsoleLoop.clock()
        lastDataRefresh = lastSample
        data = ConsoleLoop.makeData(snapshot, store: env.bridge.store, env: env, rates: [:])
    }

    /// Seconds on a monotonic clock.
    static func clock() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Runs until the user quits or the service is asked to stop.
    func run() {
        while !quitRequested, !env.bridge.stopRequested {
            var timeout = ConsoleLoop.keyTimeout
            if let deadline = resizeDeadline {
                timeout = min(timeout, max(0, Int((deadline - ConsoleLoop.clock()) * 1000)))
            }
            let raw = screen.readKey(timeout: timeout)
            let now = ConsoleLoop.clock()
            deliverResults()
            switch raw {
            case .key(let key): perform(controller.handle(key, data: data))
            case .resize: resizeDeadline = now + ConsoleLoop.resizeSettle
            case .redraw: screen.invalidate()
            case nil: break
            }
            if raw != nil { needsFrame = true }
            if let deadline = resizeDeadline, now >= deadline {
                resizeDeadline = nil
                screen.invalidate()
                perform(controller.handle(.resize, data: data))
                needsFrame = true
            }
            refreshData(now: now)
            if needsFrame, resizeDeadline == nil, !quitRequested {
                let size = screen.size
                screen.draw(controller.render(data: data, width: size.width, height: size.height))
                needsFrame = false
            }
        }
    }

    /// Hands results from the async side (store writes, previews) to the controller.
    private func deliverResults() {
        for message in env.bridge.drain() {
            switch message {
            case .report(let text, let isError): controller.report(text, isError: isError)
            case .preview(let preview): controller.previewReady(preview)
            case .propose(let routeID, let body): perform(controller.propose(routeID: routeID, body: body))
            case .drainPreview(let node, let preview): controller.drainPreviewReady(node: node, preview)
            case .quit: quitRequested = true
            case .storeStatus(let status): data.storeStatus = status
            }
            needsFrame = true
        }
    }

    /// Samples the rates once a second; takes new data when something changed (or a second passed), unless
    /// the operator paused updates.
    private func refreshData(now: Double) {
        let paused = controller.isPaused
        defer { wasPaused = paused }
        let tick = now - lastSample >= 1
        var snapshot: EngineSnapshot?
        if tick {
            lastSample = now
            let fresh = env.engine.snapshot()
            rates.sample(fresh.routes, at: fresh.takenAt)
            snapshot = fresh
        }
        if paused { return }
        let changed = env.engine.snapshotVersion != data.engine.version
            || env.bridge.storeRevision != data.storeRevision
        guard tick || wasPaused || (changed && now - lastDataRefresh >= ConsoleLoop.minDataInterval) else { return }
        lastDataRefresh = now
        data = ConsoleLoop.makeData(snapshot ?? env.engine.snapshot(), store: env.bridge.store, env: env,
                                    rates: rates.rates, byteRates: rates.byteRates)
        needsFrame = true
    }

    static func makeData(_ snapshot: EngineSnapshot, store: StoreSnapshot, env: ConsoleEnvironment,
                         rates: [String: [Double]], byteRates: [String: ByteRate] = [:]) -> ConsoleData
    {
        var data = ConsoleData(engine: snapshot, resources: store.resources, storeRevision: store.revision,
                               now: Date().timeIntervalSince1970, adminAddress: env.adminAddress(), connectRates: rates,
                               byteRates: byteRates)
        data.storeStatus = env.bridge.storeStatus
        return data
    }
}
