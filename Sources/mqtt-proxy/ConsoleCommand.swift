import ArgumentParser
import Console

/// `mqtt-proxy console` (the default): the engine and the admin API with the operator console in front.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Run the proxy with the interactive operator console (needs a terminal; `serve` runs headless).")

    @OptionGroup var files: FileOptions

    @Flag(name: .long, help: "Show everything but refuse every change (no add, edit, delete or disconnect).")
    var readonly = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Log file (default: log_file from the config, else ./mqtt-proxy.log).")
    var logFile: String?

    func run() async throws {
        if let problem = ConsoleService.terminalProblem() {
            printError("error: \(ConsoleTerminalError.noTerminal(problem))")
            throw ExitCode(1)
        }
        let resolved = try files.resolveOrExit()
        let logPath = logFile ?? resolved.loaded.config.engine.logFile ?? "mqtt-proxy.log"
        let runtime = try await Runtime.prepare(resolved, logLevel: logLevel, logFile: logPath)
        let adminAddress = runtime.adminAddress
        let console = ConsoleService(engine: runtime.engine, store: runtime.store, readonly: readonly,
                                     logger: runtime.logger) { adminAddress.current }
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
