import ArgumentParser

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
}
