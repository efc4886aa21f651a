import ArgumentParser
import Console
import Foundation
import ProxyModel

/// `mqtt-proxy`: the MQTT load-balancing proxy.
@main
struct MQTTProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt-proxy",
        abstract: "MQTT-aware TCP load balancer compatible with Apache APISIX's mqtt-proxy stream plugin.",
        subcommands: [ConsoleCommand.self, ServeCommand.self, CheckCommand.self, DemoCommand.self],
        defaultSubcommand: ConsoleCommand.self
    )
}

/// Where the config and store files are.
struct FileOptions: ParsableArguments {
    @Option(name: .long, help: "config.yaml in APISIX's layout (default conf/config.yaml; built-in defaults if absent).")
    var config: String?

    @Option(name: .long, help: "Store file in APISIX standalone format (default: conf/apisix.yaml beside the config).")
    var store: String?

    /// The files after defaults; prints the problem and exits 1 when the config cannot be read.
    func resolve() throws -> ResolvedFiles {
        do {
            return try ResolvedFiles.resolve(config: config, store: store)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Where logs go and how much of them.
struct LogOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Log file (default: log_file from the config; serve logs to standard error without one).")
    var logFile: String?
}

/// Exits 1 with the reason when there is no terminal the console can use.
func requireTerminal(orElse hint: String = "") throws {
    guard let problem = ConsoleService.terminalProblem() else { return }
    printError("error: \(ConsoleTerminalError.noTerminal(problem))\(hint)")
    throw ExitCode(1)
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
