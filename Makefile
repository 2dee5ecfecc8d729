# availd: the two commands are `make run` and `make test`.
SWIFT ?= swift
SWIFT_TEST_FLAGS ?=
FUZZ_SECONDS ?= 300

.PHONY: run test build release bench bench-wrk deps test-deps clean fuzz fuzz-smoke deploy-check

deps:
	@scripts/dependencies.sh

test-deps:
	@scripts/dependencies.sh --test

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## Build, load the demo deliveries into ./var/availd.sqlite, and serve on 127.0.0.1:8080.
run: build
	@scripts/run.sh

## Every test: unit, HTTP over loopback, the real executables (crash, disk full, replay), the
## settings page in a headless browser, schemathesis against a live daemon and its openapi.yaml,
## and deploy/ read by the tools that will run it (deploy-check, below).
test: test-deps
	python3 fixtures/check.py > /dev/null
	python3 scripts/lint-grdb-reads.py
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory fuzz-smoke
	$(SWIFT) test --skip-build $(SWIFT_TEST_FLAGS) --skip concurrentWritersNeverLetAReaderSkipAPosition --skip ServeOnPostgresTests
	@# Then, each alone, what starves the suites with deadlines when run beside them: several
	@# daemons on one PostgreSQL (processes, one test at a time), and the PostgreSQL writers'
	@# stress test (100,000 events, both cores for minutes).
	$(SWIFT) test --skip-build $(SWIFT_TEST_FLAGS) --filter ServeOnPostgresTests
	$(SWIFT) test --skip-build $(SWIFT_TEST_FLAGS) --filter concurrentWritersNeverLetAReaderSkipAPosition
	scripts/browser-test.sh
	scripts/calendar-feed-test.sh
	scripts/schemathesis.sh
	scripts/deploy-check.sh

## deploy/ alone: systemd-analyze verify and security (exposure at most 2.0), the backup unit's
## command, nginx -t, caddy validate, compose config, the Containerfile's stages.
deploy-check: test-deps
	scripts/deploy-check.sh

## libFuzzer over the signature header, the delivery decoder and the projector's JSON scanner,
## for FUZZ_SECONDS; builds into .build-fuzz. fuzz-smoke is the short run `make test` makes.
fuzz: deps
	SWIFT=$(SWIFT) fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke:
	SWIFT=$(SWIFT) fuzz/run.sh 20

## Ingest and projection figures of a release build; written under bench/results/, then
## availd against the FastAPI baseline under wrk (bench/ingest-wrk.sh) and the charts
## (bench/plot.py, matplotlib in .build-baseline/venv) as bench/results/*.png, then a rebuild
## and a verify beside the running daemon under wrk (bench/beside.sh), a rebuild's phases
## (bench/rebuild.sh), projection lag against the ingest rate (bench/lag.sh), and the charts again.
bench: release
	bench/ingest.sh
	bench/projection.sh
	$(MAKE) --no-print-directory bench-wrk
	bench/beside.sh
	bench/rebuild.sh
	bench/lag.sh
	bench/append.sh
	bench/daemons.sh
	.build-baseline/venv/bin/python bench/plot.py

## Only the wrk comparison and the charts (AVAILD_BIN=DIR for another build's executables).
bench-wrk:
	bench/ingest-wrk.sh
	bench/venv.sh bench/requirements-plot.txt
	.build-baseline/venv/bin/python bench/plot.py

clean:
	rm -rf .build .build-fuzz .build-browser .build-schemathesis .build-baseline var bench/results
