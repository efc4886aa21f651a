import ArgumentParser

/// `mqtt-proxy serve`: runs the engine headless until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the proxy headless until SIGTERM/SIGINT (graceful drain on stop).")

    @OptionGroup var files: FileOptions

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Write logs to this file instead of standard error.")
    var logFile: String?

    func run() async throws {
        let resolved = try files.resolveOrExit()
        let runtime = try await Runtime.prepare(resolved, logLevel: logLevel,
                                                logFile: logFile ?? resolved.loaded.config.engine.logFile)
        do {
            try await runtime.run()
        } catch {
            throw ExitCode(1)
        }
    }
}
