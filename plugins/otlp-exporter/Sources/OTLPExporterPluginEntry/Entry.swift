import FireflyPluginKit
import OTLPExporter

@_cdecl("firefly_plugin_v1")
public func fireflyPluginV1() -> UnsafeRawPointer { PluginExport.exporter(OTLPExporter.self) }
