# ShareGuard developer commands.  `make install` builds .venv from uv.lock;
# `make test` installs and runs every check; `make run` starts the service.

PYTHON      ?= python3
UV_VERSION  := 0.13.8
UV          := .uv/bin/uv
VENV        := .venv
CACHE       := .cache
SARIF_PKG   := @microsoft/jest-sarif@1.0.0-beta.0
SARIF_SCHEMA:= $(CACHE)/sarif-2.1.0.json
AXE_PKG     := axe-core@4.14.1
AXE_JS      := $(CACHE)/axe-core-4.14.1.min.js

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

.PHONY: install system-deps test lint typecheck unit run bench bench-presidio clean

# uv itself comes from PyPI into a small private venv, so nothing global changes.
$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock hatch_build.py src/shareguard/detect/_edmkernel.c
	$(UV) sync --frozen --compile-bytecode
	@touch $@

install: $(VENV)/.installed

# The SARIF 2.1.0 JSON schema, for validating our SARIF output in the tests,
# comes from Microsoft's jest-sarif package on the npm registry.
$(SARIF_SCHEMA):
	@mkdir -p $(CACHE)/npm
	cd $(CACHE)/npm && npm pack --silent $(SARIF_PKG) >/dev/null
	tar -xzf $(CACHE)/npm/microsoft-jest-sarif-*.tgz -C $(CACHE)/npm package/lib/schemas/sarif-2.1.0-rtm.5.json
	cp $(CACHE)/npm/package/lib/schemas/sarif-2.1.0-rtm.5.json $@

# axe-core, the accessibility checker the portal's browser tests inject into
# each page (tests/web_browser), from the npm registry like the schema above.
# The Playwright Python package drives Debian's chromium (system-deps), so
# no browser download is needed.
$(AXE_JS):
	@mkdir -p $(CACHE)/npm
	cd $(CACHE)/npm && npm pack --silent $(AXE_PKG) >/dev/null
	tar -xzf $(CACHE)/npm/axe-core-4.14.1.tgz -C $(CACHE)/npm package/axe.min.js
	cp $(CACHE)/npm/package/axe.min.js $@

# Debian packages the tests drive for real (Postfix for the gateway, Chromium
# for the portal); installs only what is missing.
system-deps:
	bash tools/system-deps.sh

lint: install
	$(VENV)/bin/ruff check src tests bench tools hatch_build.py

typecheck: install
	$(VENV)/bin/mypy src

unit: install system-deps $(SARIF_SCHEMA) $(AXE_JS)
	SHAREGUARD_SARIF_SCHEMA=$(abspath $(SARIF_SCHEMA)) SHAREGUARD_AXE_JS=$(abspath $(AXE_JS)) \
		$(VENV)/bin/pytest

test: lint typecheck unit

run: install
	$(VENV)/bin/shareguard serve

bench: install
	$(VENV)/bin/python bench/accuracy.py
	$(VENV)/bin/python bench/throughput.py

# Side-by-side benchmark against Microsoft Presidio (bench/README.md).  Presidio
# gets its own venv under bench/, built from hash-pinned requirements; it never
# enters .venv.
PRESIDIO_VENV := bench/.venv-presidio

$(PRESIDIO_VENV)/.installed: $(UV) bench/requirements-presidio.txt
	$(UV) venv --quiet --allow-existing $(PRESIDIO_VENV)
	$(UV) pip install --quiet --python $(PRESIDIO_VENV)/bin/python --require-hashes -r bench/requirements-presidio.txt
	@touch $@

bench-presidio: install $(PRESIDIO_VENV)/.installed
	$(VENV)/bin/python bench/compare_presidio.py

clean:
	rm -rf $(VENV) .uv $(CACHE) .mypy_cache .ruff_cache .pytest_cache
