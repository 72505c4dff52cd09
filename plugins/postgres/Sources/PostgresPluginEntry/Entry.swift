import FireflyPluginKit
import PostgresExporter

@_cdecl("firefly_plugin_v1")
public func fireflyPluginV1() -> UnsafeRawPointer { PluginExport.exporter(PostgresExporter.self) }
