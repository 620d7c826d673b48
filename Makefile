# The two commands of the README:
#   make build   set up (first time) and build content/ into output/
#   make test    set up (first time, including Debian's feed readers) and run every check
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
# Independent feed readers and validators the tests run against our output, and the
# generators sites switch from (real Jekyll with jekyll-feed, real Hugo).
DEBIAN_TOOLS = libxml2-utils jing newsboat sfeed sqlite3 nginx-light caddy apache2 chromium \
  exim4-daemon-light jekyll ruby-jekyll-feed ruby-jekyll-redirect-from hugo

.PHONY: build test lint system-tools bench

# make bench POSTS=10000: times wcitfeed, Hugo (Debian) and Pelican (PyPI) on one corpus
POSTS ?= 2000
bench: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[bench]'
	@command -v hugo >/dev/null 2>&1 || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends hugo; }
	$(BIN)/python bench/run.py --posts $(POSTS) --results bench/RESULTS.md

build: $(VENV)/.installed
	$(BIN)/wcitfeed build

test: $(VENV)/.installed-test system-tools lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

system-tools:
	@missing=""; \
	for tool in xmllint jing newsboat sfeed sqlite3 nginx caddy apache2 chromium sendmail \
	  jekyll hugo; do \
	  PATH="$$PATH:/usr/sbin" command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; \
	done; \
	dpkg -s ruby-jekyll-feed ruby-jekyll-redirect-from >/dev/null 2>&1 || \
	  missing="$$missing jekyll-plugins"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $(DEBIAN_TOOLS); \
	fi
