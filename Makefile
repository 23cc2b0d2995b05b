# Hall Monitor — the two commands a newcomer needs: `make run` and `make test`.
# Both install what is missing (Debian packages, npm packages, Go modules) first.

SHELL := /bin/bash
BIN := build/bin/hallmonitor
GO_TAGS := desktop,production,webkit2_41
# the version from git tags, valid as a Debian version (build/scripts/version.sh says how)
VERSION := $(shell bash build/scripts/version.sh)
APT_PACKAGES := build-essential pkg-config curl libgtk-3-dev libwebkit2gtk-4.1-dev xvfb xauth xdotool imagemagick jq tesseract-ocr tesseract-ocr-eng chromium dbus \
	lintian appstream desktop-file-utils man-db python3 git
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: all run test deps apt npm gomod frontend build vet unit-go unit-race unit-web e2e readme-tour window-smoke package package-test install uninstall bench fuzz clean

all: build

## run: install what is missing, build, open the window (headless `serve` when there is no display)
run: build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then exec ./$(BIN); \
	else echo "No display found: starting the headless Hall (open the URL below in a browser)."; exec ./$(BIN) serve; fi

## test: every test the project has: Go vet/format/unit/integration, web unit, browser e2e, real window under Xvfb
test: build vet unit-go unit-race unit-web e2e readme-tour window-smoke package-test
	@echo "make test: all suites passed"

deps: apt npm gomod

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi

npm: frontend/node_modules/.package-lock.json

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

gomod:
	@go mod download
	@cd internal/tools/otelcol && go mod download

frontend: npm
	cd frontend && npm run build

build: deps frontend
	go build -tags $(GO_TAGS) -trimpath -buildmode=pie -ldflags "-s -w -X hallmonitor/app/cli.Version=$(VERSION)" -o $(BIN) .

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet: frontend
	go vet ./...
	go run $(STATICCHECK) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## unit-go: every Go package but those unit-race tests (under the race detector, which runs the same tests)
unit-go: frontend
	go test -count=1 $$(go list ./... | grep -vxF "$$(go list $(RACE_PKGS))")

## unit-race: the packages with locks and goroutines under the race detector (the Hall API and its services,
## the MCP server, the desktop shell); hallapi/... holds events, workers, mcpclient, store and account
RACE_PKGS := ./hallapi/... ./app/mcpserver ./app/desktop
unit-race: frontend
	go test -race -count=1 $(RACE_PKGS)

unit-web: npm
	cd frontend && npm test

e2e: build
	cd frontend && HALLMONITOR_BIN=$(CURDIR)/$(BIN) npm run e2e

## readme-tour: the README's five-minute CLI tour, run as written against the built binary in a fresh HOME
readme-tour: build
	bash build/scripts/readme-tour.sh $(BIN)

## window-smoke: the real window under Xvfb (window-smoke.sh), then its system tray on a private D-Bus session (tray-smoke.sh)
window-smoke: build
	bash build/scripts/window-smoke.sh $(BIN)
	bash build/scripts/tray-smoke.sh $(BIN)

## package: build/dist/hallmonitor_<version>_amd64.deb and hallmonitor-<version>-linux-amd64.tar.gz (package.sh)
package: build
	bash build/scripts/package.sh $(BIN) $(VERSION)

## package-test: the .deb checked (dpkg-deb, lintian, appstream, desktop entry), installed with apt, its window run
## from the desktop entry under Xvfb with a decision routed, then removed (package-test.sh; needs root or sudo)
package-test: package
	SUDO="$(SUDO)" bash build/scripts/package-test.sh build/dist/hallmonitor_$(VERSION)_amd64.deb

## install / uninstall: a per-user install without root, e.g. `make install PREFIX=~/.local` (install-user.sh)
PREFIX ?= $(HOME)/.local
install: package
	bash build/scripts/install-user.sh install "$(PREFIX)"

uninstall:
	bash build/scripts/install-user.sh uninstall "$(PREFIX)"

## bench: the engine (decisions/s, p50/p99, ratio to the reference), the Hall API (ingest single/batch over HTTP,
## event latency p50/p99, feed queries over 1,000,000 stored decisions), package hashing, and a load run of the
## real binary (build/scripts/bench-load.sh: hallload against `serve`: POST /wcp/route with 1/8/32 agents at
## 1/100/1000 enrolled workers, p99 at 1,000 decisions/s offered, the engine's own rate beside it, a proxied MCP call
## against a direct one, batched ingest as a ratio to the SQLite floor), the desktop figures (start to window,
## idle RSS of the window and of serve, binary size: build/scripts/measure-desktop.sh), and the OpenTelemetry
## export's overhead (route throughput with export to the real collector on vs off: docs/bench/otel-overhead.txt)
bench: build
	go test -run '^$$' -bench . -benchmem ./core/...
	HALLMONITOR_BENCH_BIG=1 go test -run '^$$' -bench . -benchtime 3s -timeout 30m ./hallapi/httpapi/
	go test -run '^$$' -bench . -benchtime 20x ./hallapi/store/
	@mkdir -p docs/bench
	go test -run '^$$' -bench ExportOverhead -benchtime 3000x -count 3 ./hallapi/telemetry/ | tee docs/bench/otel-overhead.txt
	python3 build/scripts/sqlite-floor.py
	bash build/scripts/bench-load.sh $(BIN)
	bash build/scripts/measure-desktop.sh $(BIN)

## fuzz: a short run of every fuzz target
fuzz:
	@for t in $$(grep -rhoE 'func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/func //' | sort -u); do \
	  pkg=$$(grep -rlE "func $$t\b" --include='*_test.go' . | head -1 | xargs dirname); \
	  echo "== $$t in $$pkg"; go test -run '^$$' -fuzz "^$$t$$" -fuzztime 15s $$pkg || exit 1; done

clean:
	rm -rf build/bin build/dist build/test-artifacts frontend/dist/assets
