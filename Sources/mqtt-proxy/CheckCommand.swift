import ArgumentParser

/// `mqtt-proxy check`: validates the config and the store and lists every problem.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate config.yaml and the store file; print every problem with file, line and reason.")

    @OptionGroup var files: FileOptions

    func run() throws {
        let findings = try files.resolve().check()
        for finding in findings { print(finding) }
        let errors = findings.filter { $0.level == .error }.count
        if errors > 0 {
            print("\(errors) problem(s) found")
            throw ExitCode(1)
        }
    }
}
