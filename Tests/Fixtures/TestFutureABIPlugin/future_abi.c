/* A plugin built against a future ABI major (2.0): the host must refuse it, naming both versions. */
#include "firefly_plugin.h"

static const firefly_plugin descriptor = {
    .abi_version = (2u << 16) | 0u,
    .struct_size = sizeof(firefly_plugin),
    .kind = FIREFLY_PLUGIN_EXPORTER,
    .name = "future",
    .version = "9.0.0",
    .description = "Claims ABI 2.0",
};

const firefly_plugin *firefly_plugin_v1(void) { return &descriptor; }
