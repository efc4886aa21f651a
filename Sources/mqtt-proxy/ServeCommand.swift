import ArgumentParser

/// `mqtt-proxy serve`: runs the engine headless until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the proxy headless until SIGTERM/SIGINT (graceful drain on stop).")

    @OptionGroup var files: FileOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        let resolved = try files.resolve()
        let runtime = try await Runtime.prepare(resolved, logLevel: log.logLevel,
                                                logFile: log.logFile ?? resolved.loaded.config.engine.logFile)
        do {
            try await runtime.run()
        } catch {
            throw ExitCode(1)
        }
    }
}
