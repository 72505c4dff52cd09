# Firefly — the two commands: `make run` and `make test` (plus `make bench`).
SHELL := /bin/bash
CONFIG ?= firefly.yaml
PLUGIN_DIR := .firefly/plugins
PLUGINS := FireflyDebugPlugin FireflyFirehosePlugin FireflyOTLPPlugin FireflyOTLPExporterPlugin FireflyPostgresPlugin FireflyRemoteWritePlugin FireflyWebhookPlugin

.PHONY: run test build plugins clean-state

## Build release, stage plugins, start the managed PostgreSQL when the config uses it, serve.
run: build plugins
	@scripts/run.sh "$(CONFIG)"

## Bootstrap, build and run every test (unit + integration against real servers).
test:
	@scripts/test.sh

build:
	@scripts/bootstrap
	swift build -c release

## Copy the release plugins where the default `plugins.paths` finds them, stripped.
plugins:
	@mkdir -p $(PLUGIN_DIR)
	@bin=$$(swift build -c release --show-bin-path); \
	for p in $(PLUGINS); do \
		install -m 0755 "$$bin/lib$$p.so" "$(PLUGIN_DIR)/lib$$p.so" && strip --strip-unneeded "$(PLUGIN_DIR)/lib$$p.so"; \
	done; \
	echo "staged $(words $(PLUGINS)) plugins in $(PLUGIN_DIR)"

## Remove queues, staged plugins and the managed PostgreSQL's data (stops it first).
clean-state:
	-scripts/postgres.sh stop
	rm -rf .firefly

.PHONY: bench demo

## Benchmarks on loopback (PostgreSQL, Prometheus and the collector are started and stopped for it).
bench:
	@scripts/bench.sh

## Send synthetic Lambda telemetry to the collector `make run` serves on 127.0.0.1:4318
## (DEMO_ARGS="--duration 5m --rate 20" for more).
demo: build
	@"$$(swift build -c release --show-bin-path)/firefly" demo --target http://127.0.0.1:4318 $(DEMO_ARGS)

.PHONY: grafana

## Regenerate the committed Grafana provisioning: grafana/ from firefly.yaml, compose/grafana/ from
## compose/firefly.yaml (tests fail when either is stale). No secret from the environment is written.
grafana:
	@swift build --product firefly >/dev/null && swift build --product firefly-tools >/dev/null
	@bin=$$(swift build --show-bin-path); \
	env -u FIREFLY_POSTGRES_URL -u POSTGRES_PASSWORD "$$bin/firefly" grafana generate --out grafana && \
	env -u FIREFLY_POSTGRES_URL -u POSTGRES_PASSWORD "$$bin/firefly" grafana generate --config compose/firefly.yaml --out compose/grafana
