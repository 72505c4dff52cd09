import FireflyPluginKit
import OTLPAdapter

@_cdecl("firefly_plugin_v1")
public func fireflyPluginV1() -> UnsafeRawPointer { PluginExport.adapter(OTLPAdapter.self) }
