import FireflyModel

extension Collector {
    /// A pipeline of a signal that one of its receivers does not emit, or one of its exporters does
    /// not accept, would silently carry nothing: each such pairing is a problem. Instances whose
    /// plugin is unknown are reported elsewhere.
    static func signalProblems(config: FireflyConfig, libraries: (String) -> PluginLibrary?) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        for pipeline in config.pipelines {
            let signal = Signals(pipeline.signal)
            for (section, names, role) in [("receivers", pipeline.receivers, "emit"), ("exporters", pipeline.exporters, "accept")] {
                let instances = section == "receivers" ? config.receivers : config.exporters
                for name in names {
                    guard let instance = instances.first(where: { $0.name == name }),
                          let library = libraries(instance.plugin), !library.signals.contains(signal) else { continue }
                    problems.append(ConfigProblem(
                        file: config.file, location: instance.pluginLocation, path: "pipelines.\(pipeline.name).\(section)",
                        message: "'\(name)' (plugin \(library.name)) does not \(role) \(pipeline.signal.rawValue); it handles \(library.signals)"))
                }
            }
        }
        return problems
    }
}
