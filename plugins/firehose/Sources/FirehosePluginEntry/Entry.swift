import FireflyPluginKit
import FirehoseAdapter

@_cdecl("firefly_plugin_v1")
public func fireflyPluginV1() -> UnsafeRawPointer { PluginExport.adapter(FirehoseAdapter.self) }
