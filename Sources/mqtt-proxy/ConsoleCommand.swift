import ArgumentParser
import Console

/// `mqtt-proxy console` (the default): the engine and the admin API with the operator console in front.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Run the proxy with the interactive operator console (needs a terminal; `serve` runs headless).")

    @OptionGroup var files: FileOptions
    @OptionGroup var log: LogOptions

    @Flag(name: .long, help: "Show everything but refuse every change (no add, edit, delete or disconnect).")
    var readonly = false

    func run() async throws {
        try requireTerminal()
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
}
