/* The ABI is header-only; this file gives SwiftPM a translation unit. */
#include "firefly_plugin.h"
