/*
 * firefly_plugin.h — the Firefly plugin C ABI, version 1.2.
 *
 * This header is the only contract between the Firefly collector (the "host") and a plugin.
 * A plugin is a shared object (.so) that exports exactly one symbol:
 *
 *     const firefly_plugin *firefly_plugin_v1(void);
 *
 * The host dlopen()s the .so files found in `plugins.paths` (those whose names say they hold a plugin
 * the configuration uses first; see docs/plugins.md), calls firefly_plugin_v1() and reads the
 * returned descriptor. Nothing Swift- or NIO-specific crosses this boundary: only fixed-width
 * integers, doubles, byte slices and arrays of plain structs, so plugins can be written in Swift
 * (with FireflyPluginKit), C, Rust, Zig or anything that can export a C function.
 *
 * VERSIONING
 *   FIREFLY_ABI_VERSION = (major << 16) | minor. The host refuses a plugin whose major differs from
 *   its own. Minor versions only append fields at the end of structs; every versioned struct starts
 *   with `abi_version` and `struct_size`, so a reader checks `struct_size` before touching a field
 *   that a newer minor added. Element arrays (points, spans, ...) carry their element stride in the
 *   enclosing struct (`point_size`, `span_size`) for the same reason.
 *   1.1 appended `authorize` to `firefly_plugin`; plugins built against 1.0 load and work unchanged
 *   (the host treats the fields they lack as NULL).
 *   1.2 added the logs signal: `firefly_log_record` and `firefly_invocation`, appended to
 *   `firefly_batch` (a batch whose `struct_size` ends before them has none), and `signals` appended
 *   to `firefly_plugin` (absent means metrics and traces, what every plugin before 1.2 handled).
 *
 * MEMORY
 *   - Borrowed: every pointer the host passes into a plugin call (requests, batches, config text,
 *     strings) is valid only for the duration of that call. Copy what you keep.
 *     Exception: the batch given to `export_batch` stays valid until `done` is called.
 *   - Owned by the plugin: what a plugin hands back (response bodies and headers, error strings,
 *     route tables) stays valid until the host calls the matching release callback
 *     (`release_response`, `release_string`) or, for routes, until `destroy`.
 *   - Strings are UTF-8 byte slices (`firefly_str`), not NUL-terminated, unless documented otherwise.
 *
 * THREADING
 *   - `create`, `routes` and `destroy` are called from one thread at a time.
 *   - `handle` is called on host worker threads (never an event loop), possibly concurrently for the
 *     same instance; it may block (e.g. inside `sink->emit`, which waits for the durable queue).
 *   - `export_batch` is called with at most one batch in flight per instance: the host waits for
 *     `done` before sending the next. `done` may be called from any thread, exactly once.
 *   - Host services (`firefly_host`) are thread-safe.
 */
#ifndef FIREFLY_PLUGIN_H
#define FIREFLY_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FIREFLY_ABI_MAJOR 1u
#define FIREFLY_ABI_MINOR 2u
#define FIREFLY_ABI_VERSION ((FIREFLY_ABI_MAJOR << 16) | FIREFLY_ABI_MINOR)
#define FIREFLY_ABI_MAJOR_OF(version) ((uint32_t)(version) >> 16)
#define FIREFLY_ABI_MINOR_OF(version) ((uint32_t)(version)&0xFFFFu)

/** The same version as a constant, for languages that cannot expand macros (Swift). */
static const uint32_t firefly_abi_version = FIREFLY_ABI_VERSION;

/* ---------------------------------------------------------------- basic types */

/** UTF-8 text, not NUL-terminated. `ptr` may be NULL when `len` is 0. */
typedef struct firefly_str {
    const char *ptr;
    size_t len;
} firefly_str;

/** Raw bytes. `ptr` may be NULL when `len` is 0. */
typedef struct firefly_bytes {
    const uint8_t *ptr;
    size_t len;
} firefly_bytes;

/** A string key/value pair: metric labels, HTTP headers. */
typedef struct firefly_kv {
    firefly_str key;
    firefly_str value;
} firefly_kv;

/* ---------------------------------------------------------------- telemetry */

/** Attribute value types. Arrays and maps travel as JSON text (FIREFLY_ATTR_JSON). */
typedef enum firefly_attr_type {
    FIREFLY_ATTR_STRING = 1, /* string_value */
    FIREFLY_ATTR_BOOL = 2,   /* int_value: 0 or 1 */
    FIREFLY_ATTR_INT = 3,    /* int_value */
    FIREFLY_ATTR_DOUBLE = 4, /* double_value */
    FIREFLY_ATTR_BYTES = 5,  /* string_value holds raw bytes */
    FIREFLY_ATTR_JSON = 6    /* string_value holds a JSON array or object */
} firefly_attr_type;

/** A typed attribute (OpenTelemetry span, resource and event attributes). */
typedef struct firefly_attr {
    firefly_str key;
    uint32_t type; /* firefly_attr_type */
    uint32_t reserved;
    int64_t int_value;
    double double_value;
    firefly_str string_value;
} firefly_attr;

/** Metric point kinds. */
typedef enum firefly_metric_kind {
    FIREFLY_METRIC_GAUGE = 1,          /* value */
    FIREFLY_METRIC_SUM_CUMULATIVE = 2, /* value; see FIREFLY_POINT_MONOTONIC */
    FIREFLY_METRIC_SUM_DELTA = 3,      /* value; see FIREFLY_POINT_MONOTONIC */
    FIREFLY_METRIC_SUMMARY = 4,        /* count, sum, min, max, quantiles (0 = min, 1 = max) */
    FIREFLY_METRIC_HISTOGRAM = 5       /* count, sum, min, max, bounds + bucket_counts (explicit buckets) */
} firefly_metric_kind;

/** Point flags. */
#define FIREFLY_POINT_MONOTONIC 0x1u   /* a sum that never decreases */
#define FIREFLY_POINT_HAS_MIN_MAX 0x2u /* min and max are meaningful */
#define FIREFLY_POINT_DELTA 0x4u       /* summary/histogram aggregates one interval (CloudWatch: one minute) */

typedef struct firefly_quantile {
    double quantile; /* 0.0 ... 1.0 */
    double value;
} firefly_quantile;

/**
 * One metric data point. `function` is the serverless function the point belongs to, resolved
 * once at ingest ("" when none). `namespace_` is the CloudWatch namespace (e.g. "AWS/Lambda") or
 * "" for OpenTelemetry metrics. Labels are sorted by key, keys unique.
 * A histogram has bucket_count == bound_count + 1 (the last bucket is +Inf).
 */
typedef struct firefly_metric_point {
    firefly_str name;
    firefly_str namespace_;
    firefly_str unit;
    firefly_str function;
    uint32_t kind;  /* firefly_metric_kind */
    uint32_t flags; /* FIREFLY_POINT_* */
    const firefly_kv *labels;
    size_t label_count;
    uint64_t start_time_unix_nano; /* 0 when unknown */
    uint64_t time_unix_nano;
    double value; /* gauge and sums */
    double count; /* summary, histogram */
    double sum;
    double min;
    double max;
    const firefly_quantile *quantiles;
    size_t quantile_count;
    const double *bounds;
    size_t bound_count;
    const uint64_t *bucket_counts;
    size_t bucket_count;
} firefly_metric_point;

typedef struct firefly_span_event {
    uint64_t time_unix_nano;
    firefly_str name;
    const firefly_attr *attributes;
    size_t attribute_count;
} firefly_span_event;

typedef struct firefly_span_link {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    firefly_str trace_state;
    const firefly_attr *attributes;
    size_t attribute_count;
} firefly_span_link;

/** Span kinds, as in OpenTelemetry. */
typedef enum firefly_span_kind {
    FIREFLY_SPAN_UNSPECIFIED = 0,
    FIREFLY_SPAN_INTERNAL = 1,
    FIREFLY_SPAN_SERVER = 2,
    FIREFLY_SPAN_CLIENT = 3,
    FIREFLY_SPAN_PRODUCER = 4,
    FIREFLY_SPAN_CONSUMER = 5
} firefly_span_kind;

/** Status codes, as in OpenTelemetry: 0 unset, 1 ok, 2 error. */
typedef enum firefly_status_code {
    FIREFLY_STATUS_UNSET = 0,
    FIREFLY_STATUS_OK = 1,
    FIREFLY_STATUS_ERROR = 2
} firefly_status_code;

/**
 * One span. An all-zero parent_span_id means a root span. `function` is `faas.name`, falling back
 * to `service.name` (resolved at ingest); `service` is `service.name`.
 */
typedef struct firefly_span {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_span_id[8];
    firefly_str trace_state;
    firefly_str name;
    uint32_t kind;        /* firefly_span_kind */
    uint32_t status_code; /* firefly_status_code */
    firefly_str status_message;
    uint64_t start_time_unix_nano;
    uint64_t end_time_unix_nano;
    firefly_str function;
    firefly_str service;
    firefly_str scope_name;
    firefly_str scope_version;
    const firefly_attr *attributes;
    size_t attribute_count;
    const firefly_attr *resource_attributes;
    size_t resource_attribute_count;
    const firefly_span_event *events;
    size_t event_count;
    const firefly_span_link *links;
    size_t link_count;
} firefly_span;

/**
 * One log record, as OpenTelemetry defines it. `severity_number` is OpenTelemetry's SeverityNumber
 * (0 unspecified, 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL). `body`
 * is typed like an attribute (its key is unused): FIREFLY_ATTR_STRING for a plain message,
 * FIREFLY_ATTR_JSON for a structured one. An all-zero trace_id / span_id means none. `function` is
 * resolved at ingest like a span's (for Lambda's own logs: from the log group). `record_id` is a
 * key the source gives the record, the same each time it is delivered again (CloudWatch Logs'
 * event id), or empty.
 */
typedef struct firefly_log_record {
    uint64_t time_unix_nano; /* 0 when unknown */
    uint64_t observed_time_unix_nano;
    uint32_t severity_number;
    uint32_t trace_flags; /* W3C trace flags; bit 0: sampled */
    firefly_str severity_text;
    firefly_attr body;
    uint8_t trace_id[16];
    uint8_t span_id[8];
    firefly_str function;
    firefly_str service;
    firefly_str scope_name;
    firefly_str scope_version;
    firefly_str record_id;
    const firefly_attr *attributes;
    size_t attribute_count;
    const firefly_attr *resource_attributes;
    size_t resource_attribute_count;
} firefly_log_record;

/** How an invocation ended. */
typedef enum firefly_invocation_status {
    FIREFLY_INVOCATION_SUCCESS = 0,
    FIREFLY_INVOCATION_ERROR = 1,
    FIREFLY_INVOCATION_TIMEOUT = 2,
    FIREFLY_INVOCATION_OUT_OF_MEMORY = 3
} firefly_invocation_status;

/** Invocation flags. */
#define FIREFLY_INVOCATION_COLD_START 0x1u /* the invocation ran an init phase: init_duration_ms is meaningful */

/**
 * One function invocation as the platform reported it (Lambda's REPORT line or `platform.report`
 * record); travels with the logs signal. `request_id` is Lambda's request id (`faas.invocation_id`).
 */
typedef struct firefly_invocation {
    firefly_str function;
    firefly_str version;
    firefly_str request_id;
    uint64_t start_time_unix_nano;
    double duration_ms;
    double billed_duration_ms;
    double init_duration_ms;
    uint32_t memory_size_mb;
    uint32_t max_memory_used_mb;
    uint32_t status; /* firefly_invocation_status */
    uint32_t flags;  /* FIREFLY_INVOCATION_* */
    firefly_str error_type;
    uint8_t trace_id[16]; /* all zero: not traced */
    const firefly_attr *attributes;
    size_t attribute_count;
} firefly_invocation;

/** A batch of telemetry: what adapters emit and exporters receive. */
typedef struct firefly_batch {
    uint32_t abi_version;
    uint32_t struct_size;
    const firefly_metric_point *points; /* element stride: point_size bytes */
    size_t point_count;
    size_t point_size;
    const firefly_span *spans; /* element stride: span_size bytes */
    size_t span_count;
    size_t span_size;

    /* ---- ABI 1.2 (present when struct_size covers them; a shorter batch has no logs) */
    const firefly_log_record *logs; /* element stride: log_size bytes */
    size_t log_count;
    size_t log_size;
    const firefly_invocation *invocations; /* element stride: invocation_size bytes */
    size_t invocation_count;
    size_t invocation_size;
} firefly_batch;

/** Size of a `firefly_batch` as ABI 1.0 and 1.1 laid it out: the smallest batch a reader accepts. */
#define FIREFLY_BATCH_SIZE_1_0 (offsetof(firefly_batch, span_size) + sizeof(size_t))
static const size_t firefly_batch_size_1_0 = FIREFLY_BATCH_SIZE_1_0;

/** Signals, as bits of `firefly_plugin.signals`. */
#define FIREFLY_SIGNAL_METRICS 0x1u /* metric points */
#define FIREFLY_SIGNAL_TRACES 0x2u  /* spans */
#define FIREFLY_SIGNAL_LOGS 0x4u    /* log records and invocations */

/* ---------------------------------------------------------------- host services */

typedef enum firefly_log_level {
    FIREFLY_LOG_DEBUG = 1,
    FIREFLY_LOG_INFO = 2,
    FIREFLY_LOG_WARNING = 3,
    FIREFLY_LOG_ERROR = 4
} firefly_log_level;

/**
 * Services the host offers a plugin instance; passed to `create`, valid until `destroy`.
 * All callbacks are thread-safe and take `ctx` as their first argument.
 */
typedef struct firefly_host {
    uint32_t abi_version;
    uint32_t struct_size;
    void *ctx;
    /** Log one message; the host adds the instance name. */
    void (*log)(void *ctx, uint32_t level, firefly_str message);
    /** Wall-clock time in nanoseconds since the Unix epoch. */
    uint64_t (*now_unix_nano)(void *ctx);
    /**
     * Add `delta` to the self-metric counter `firefly_plugin_<name>_total` with the given labels
     * (the host adds `instance`). Shown on the collector's /metrics.
     */
    void (*counter_add)(void *ctx, firefly_str name, const firefly_kv *labels, size_t label_count, uint64_t delta);
} firefly_host;

/* ---------------------------------------------------------------- adapters */

/** One route an adapter serves. */
typedef struct firefly_route {
    firefly_str method; /* "POST", "GET", ... */
    firefly_str path;   /* exact path, e.g. "/firehose" */
} firefly_route;

/**
 * An HTTP request, borrowed for the duration of `handle`. The body is already decompressed
 * (the host handles Content-Encoding: gzip and enforces `server.max_body_bytes`); header names
 * are lowercase.
 */
typedef struct firefly_http_request {
    uint32_t abi_version;
    uint32_t struct_size;
    firefly_str method;
    firefly_str path;
    firefly_str query;
    const firefly_kv *headers;
    size_t header_count;
    firefly_bytes body;
    firefly_str remote_address;
} firefly_http_request;

/**
 * The adapter's answer. The plugin fills it in `handle`; the host copies it and then calls
 * `release_response` so the plugin can free what it allocated (`owner` is for the plugin's use).
 */
typedef struct firefly_http_response {
    uint32_t abi_version;
    uint32_t struct_size;
    uint32_t status;
    uint32_t reserved;
    firefly_str content_type;
    const firefly_kv *headers;
    size_t header_count;
    firefly_bytes body;
    void *owner;
} firefly_http_response;

/** Results of `sink->emit`. */
typedef enum firefly_emit_status {
    FIREFLY_EMIT_OK = 0,      /* durable: safe to acknowledge the sender */
    FIREFLY_EMIT_BUSY = 1,    /* queue over its budget: answer 503 / 429 with Retry-After */
    FIREFLY_EMIT_INVALID = 2, /* the batch itself is malformed (e.g. bad struct sizes) */
    FIREFLY_EMIT_CLOSED = 3   /* the collector is shutting down: answer 503 */
} firefly_emit_status;

/**
 * Where an adapter delivers telemetry. `emit` blocks until the batch is in the queue (ack means
 * durable) and may be called several times per request. `retry_after_ms` (may be NULL) receives
 * a suggested delay when the status is BUSY or CLOSED.
 */
typedef struct firefly_sink {
    uint32_t abi_version;
    uint32_t struct_size;
    void *ctx;
    uint32_t (*emit)(void *ctx, const firefly_batch *batch, uint32_t *retry_after_ms);
} firefly_sink;

/* ---------------------------------------------------------------- exporters */

typedef enum firefly_export_result {
    FIREFLY_EXPORT_OK = 0,
    FIREFLY_EXPORT_RETRYABLE = 1, /* try again later; retry_after_ms 0 means "host decides" */
    FIREFLY_EXPORT_PERMANENT = 2  /* never retry this batch; message says why */
} firefly_export_result;

/** Completion of an export. `message` is borrowed for the duration of the call. Call exactly once. */
typedef void (*firefly_export_done)(void *done_ctx, uint32_t result, uint32_t retry_after_ms, firefly_str message);

/* ---------------------------------------------------------------- the descriptor */

typedef enum firefly_plugin_kind {
    FIREFLY_PLUGIN_ADAPTER = 1,
    FIREFLY_PLUGIN_EXPORTER = 2
} firefly_plugin_kind;

/** Return codes of `create`. */
#define FIREFLY_OK 0
#define FIREFLY_ERROR 1

/**
 * What `firefly_plugin_v1()` returns: a static, immutable descriptor.
 * `name`, `version` and `description` are NUL-terminated static strings; `name` is what users
 * write in `plugin:` (lowercase letters, digits and '-').
 */
typedef struct firefly_plugin {
    uint32_t abi_version;
    uint32_t struct_size;
    uint32_t kind; /* firefly_plugin_kind */
    uint32_t reserved;
    const char *name;
    const char *version;
    const char *description;

    /**
     * Create an instance. `instance_name` is e.g. "firehose" or "webhook/github"; `config_json` is
     * the instance's own keys from firefly.yaml (everything but `plugin:`) as a JSON object.
     * On failure return FIREFLY_ERROR and set *error_out to a plugin-owned NUL-terminated string
     * listing every problem, one per line, each starting with the config key path
     * ("access_keys[1]: must not be empty"); the host frees it with `release_string`.
     */
    int32_t (*create)(const firefly_host *host, firefly_str instance_name, firefly_str config_json,
                      void **instance_out, char **error_out);
    /** Free a string the plugin returned (error messages). */
    void (*release_string)(char *string);
    /** Stop and free an instance. For exporters, called after the last `done`. */
    void (*destroy)(void *instance);

    /* Adapters (NULL for exporters). */
    /** The routes this instance serves; the array stays valid until `destroy`. */
    int32_t (*routes)(void *instance, const firefly_route **routes_out, size_t *count_out);
    /** Answer one request. Fill *response (pre-initialised by the host with abi_version/struct_size). */
    void (*handle)(void *instance, const firefly_http_request *request, const firefly_sink *sink,
                   firefly_http_response *response);
    /** Free what `handle` or `reject` put into a response. */
    void (*release_response)(void *instance, firefly_http_response *response);
    /**
     * Optional (may be NULL): format an error the host detected before `handle` (413 body too large,
     * 400 invalid gzip, 415 unsupported Content-Encoding) in the adapter's own protocol. `request`
     * carries the headers with an empty body. When NULL the host answers a JSON
     * {"errorMessage": ...} body.
     */
    void (*reject)(void *instance, const firefly_http_request *request, uint32_t status, firefly_str message,
                   firefly_http_response *response);

    /* Exporters (NULL for adapters). */
    /** Start exporting `batch`; call `done(done_ctx, ...)` exactly once when finished. */
    void (*export_batch)(void *instance, const firefly_batch *batch, firefly_export_done done, void *done_ctx);
    /** Push out anything buffered; blocks until done. Called before `destroy` on shutdown. */
    void (*flush)(void *instance);

    /* Adapters with listeners of their own (optional, may be NULL). */
    /**
     * Called once when the collector starts serving. `sink` stays valid until `stop` returns; the
     * plugin may start its own listeners (e.g. OTLP/gRPC on another port) and call `sink->emit` from
     * any thread. On failure (e.g. the port is in use) return FIREFLY_ERROR with *error_out set
     * (plugin-owned, freed with `release_string`); the collector then refuses to start.
     */
    int32_t (*start)(void *instance, const firefly_sink *sink, char **error_out);
    /** Stops what `start` started; when it returns, no more `emit` calls happen. */
    void (*stop)(void *instance);

    /* ---- ABI 1.1 (present when struct_size covers it) */

    /**
     * Adapters, optional (may be NULL): decide on the request line and headers alone, before the
     * host reads the body, whether the request may go on. `request` carries the headers with an
     * empty body. Return 0 to go on: the host then reads the body and calls `handle`. Return
     * non-zero after filling *response (pre-initialised like for `handle`, freed with
     * `release_response`) to answer at once — e.g. 401 for a missing or wrong access key — without
     * reading the body. Runs on an event loop: it must not block. When NULL, or when the plugin's
     * credentials can only be checked against the body (signatures), the body is read first.
     */
    int32_t (*authorize)(void *instance, const firefly_http_request *request, firefly_http_response *response);

    /* ---- ABI 1.2 (present when struct_size covers it) */

    /**
     * The signals this plugin handles (FIREFLY_SIGNAL_* bits): what an adapter emits, what an
     * exporter accepts. `firefly check` refuses a pipeline of a signal that one of its plugins lacks.
     * 0, like a descriptor too short to have the field, means metrics and traces.
     */
    uint32_t signals;
    uint32_t reserved_1_2;
} firefly_plugin;

/** Size of a `firefly_plugin` as ABI 1.0 laid it out: the smallest descriptor the host accepts. */
#define FIREFLY_PLUGIN_SIZE_1_0 (offsetof(firefly_plugin, stop) + sizeof(void (*)(void *)))
static const size_t firefly_plugin_size_1_0 = FIREFLY_PLUGIN_SIZE_1_0;

/** The one symbol every plugin exports. */
typedef const firefly_plugin *(*firefly_plugin_entry)(void);
#define FIREFLY_PLUGIN_ENTRY_SYMBOL "firefly_plugin_v1"

#ifdef __cplusplus
}
#endif

#endif /* FIREFLY_PLUGIN_H */
