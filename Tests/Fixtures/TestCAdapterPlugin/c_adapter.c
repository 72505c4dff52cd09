/* A Firefly adapter plugin in plain C: proves the ABI needs nothing but the header.
 * Route: POST /c-adapter. Body: lines "<metric name> <value>"; each becomes a gauge point
 * labelled source="c". Answers 200 "accepted N", 400 on a bad line, 503 when the queue is busy.
 * Config: {"fail": ...} makes create fail (to test error reporting). */
#define _GNU_SOURCE
/* Built against the ABI 1.0 header, kept as it was released: a collector speaking a newer minor
 * version must load and run plugins built for an older one unchanged. */
#include "abi-1.0/firefly_plugin.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct instance {
    const firefly_host *host;
    firefly_route route;
} instance;

static firefly_str str(const char *s) {
    firefly_str out = {s, strlen(s)};
    return out;
}

static int32_t create(const firefly_host *host, firefly_str name, firefly_str config, void **out, char **error) {
    (void)name;
    if (config.len > 0 && memmem(config.ptr, config.len, "\"fail\"", 6) != NULL) {
        *error = strdup("fail: this C plugin was asked to fail");
        return FIREFLY_ERROR;
    }
    instance *inst = calloc(1, sizeof(instance));
    inst->host = host;
    inst->route.method = str("POST");
    inst->route.path = str("/c-adapter");
    *out = inst;
    host->log(host->ctx, FIREFLY_LOG_INFO, str("C adapter ready"));
    return FIREFLY_OK;
}

static void release_string(char *s) { free(s); }

static void destroy(void *inst) { free(inst); }

static int32_t routes(void *inst, const firefly_route **out, size_t *count) {
    *out = &((instance *)inst)->route;
    *count = 1;
    return FIREFLY_OK;
}

static void respond(firefly_http_response *r, uint32_t status, const char *text) {
    char *body = strdup(text);
    r->status = status;
    r->content_type = str("text/plain");
    r->body.ptr = (const uint8_t *)body;
    r->body.len = strlen(body);
    r->owner = body;
}

static void handle(void *inst_, const firefly_http_request *req, const firefly_sink *sink, firefly_http_response *resp) {
    instance *inst = inst_;
    size_t cap = 16, n = 0;
    firefly_metric_point *points = calloc(cap, sizeof(firefly_metric_point));
    char **names = calloc(cap, sizeof(char *));
    firefly_kv label = {str("source"), str("c")};
    const char *p = (const char *)req->body.ptr, *end = p + req->body.len;
    int bad = 0;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0) {
            char line[256];
            char name[200];
            double value;
            if (len >= sizeof line) { bad = 1; break; }
            memcpy(line, p, len);
            line[len] = 0;
            if (sscanf(line, "%199s %lf", name, &value) != 2) { bad = 1; break; }
            if (n == cap) {
                cap *= 2;
                points = realloc(points, cap * sizeof(firefly_metric_point));
                names = realloc(names, cap * sizeof(char *));
            }
            memset(&points[n], 0, sizeof(firefly_metric_point));
            names[n] = strdup(name);
            points[n].name = str(names[n]);
            points[n].kind = FIREFLY_METRIC_GAUGE;
            points[n].labels = &label;
            points[n].label_count = 1;
            points[n].time_unix_nano = inst->host->now_unix_nano(inst->host->ctx);
            points[n].value = value;
            n++;
        }
        p = nl ? nl + 1 : end;
    }
    if (bad) {
        respond(resp, 400, "bad line: expected '<name> <value>'");
    } else {
        firefly_batch batch = {FIREFLY_ABI_VERSION, sizeof(firefly_batch), points, n, sizeof(firefly_metric_point),
                               NULL, 0, sizeof(firefly_span)};
        uint32_t retry = 0;
        uint32_t status = sink->emit(sink->ctx, &batch, &retry);
        if (status == FIREFLY_EMIT_OK) {
            char text[64];
            snprintf(text, sizeof text, "accepted %zu", n);
            respond(resp, 200, text);
            firefly_kv kv = {str("result"), str("ok")};
            inst->host->counter_add(inst->host->ctx, str("c_adapter_requests"), &kv, 1, 1);
        } else {
            respond(resp, 503, "busy");
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(points);
}

static void release_response(void *inst, firefly_http_response *resp) {
    (void)inst;
    free(resp->owner);
    resp->owner = NULL;
}

static const firefly_plugin descriptor = {
    .abi_version = FIREFLY_ABI_VERSION,
    .struct_size = sizeof(firefly_plugin),
    .kind = FIREFLY_PLUGIN_ADAPTER,
    .name = "c-adapter",
    .version = "1.0.0",
    .description = "Test adapter written in plain C",
    .create = create,
    .release_string = release_string,
    .destroy = destroy,
    .routes = routes,
    .handle = handle,
    .release_response = release_response,
};

const firefly_plugin *firefly_plugin_v1(void) { return &descriptor; }
