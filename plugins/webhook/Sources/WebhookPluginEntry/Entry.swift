import FireflyPluginKit
import WebhookAdapter

@_cdecl("firefly_plugin_v1")
public func fireflyPluginV1() -> UnsafeRawPointer { PluginExport.adapter(WebhookAdapter.self) }
