import ArgumentParser
import Console

/// `mqtt-proxy console` (the default): the engine and the admin API with the operator console in front.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Run the proxy with the interactive operator console (needs a terminal; `serve` runs headless).")

    @OptionGroup var files: FileOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var attach: AttachOptions

    @Flag(name: .long, help: "Show everything but refuse every change (no add, edit, delete or disconnect).")
    var readonly = false

    @Flag(name: .long, help: "Print one frame of a view as plain text and exit (no terminal needed; nothing listens).")
    var once = false

    @Option(name: .long, help: "With --once: the view, 1 Connections, 2 Clients→Nodes, 3 Routes, 4 Log (default 3).")
    var view: Int = 3

    @Option(name: .long, help: "With --once: WIDTHxHEIGHT (default: COLUMNS x LINES, else 80x24).")
    var size: String?

    func validate() throws {
        guard ViewKind(rawValue: view) != nil else { throw ValidationError("--view must be 1, 2, 3 or 4") }
        if !once, size != nil { throw ValidationError("--size goes with --once") }
    }

    func run() async throws {
        if once { return try await printOnce() }
        try requireTerminal()
        if attach.isAttached { return try await attach.runConsole(files, log: log, readonly: readonly) }
        let resolved = try files.resolve()
        let logPath = log.logFile ?? resolved.loaded.config.engine.logFile ?? "mqtt-proxy.log"
        let runtime = try await Runtime.prepare(resolved, logLevel: log.logLevel, logFile: logPath)
        let admin = runtime.adminAddress
        let console = ConsoleService(engine: runtime.engine, store: runtime.store, readonly: readonly,
                                     logger: runtime.logger) { admin.current }
        do {
            try await runtime.run(adding: [console])
        } catch let error as ConsoleTerminalError {
            printError("error: \(error)")
            throw ExitCode(1)
        } catch {
            printError("error: mqtt-proxy stopped: \(error) (details in \(logPath))")
            throw ExitCode(1)
        }
    }

    /// `--once`: the store loaded and the routes compiled as at start-up, one frame printed; no listener, no admin
    /// API, and no log file unless one is asked for (errors go to standard error).
    private func printOnce() async throws {
        let dimensions: (width: Int, height: Int)
        do {
            dimensions = try OnceRender.size(size)
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        if attach.isAttached {
            return try await attach.printOnce(files, view: ViewKind(rawValue: view)!, width: dimensions.width,
                                              height: dimensions.height, readonly: readonly)
        }
        let resolved = try files.resolve()
        let runtime = try await Runtime.prepare(resolved, logLevel: log.logLevel ?? "error", logFile: log.logFile)
        let snapshot = await runtime.store.snapshot()
        _ = await runtime.engine.apply(snapshot)
        print(OnceRender.text(engine: runtime.engine, store: snapshot, view: ViewKind(rawValue: view)!,
                              width: dimensions.width, height: dimensions.height, readonly: readonly), terminator: "")
        try? await runtime.group.shutdownGracefully()
    }
}
