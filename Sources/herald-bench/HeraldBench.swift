import ArgumentParser

/// Herald's rerunnable benchmarks (see Benchmarks/README.md).
@main
struct HeraldBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald-bench",
        abstract: "Import, contact-query and delivery-engine benchmarks on SQLite.",
        subcommands: [ImportCommand.self, ImportRunCommand.self, QueryCommand.self, FanoutCommand.self, DispatchCommand.self, EstimateCommand.self, EstimateRunCommand.self])
}
