# consentvault: `make demo` runs the whole story on the sandbox, `make test`
# runs every test. Both set up what they need first and skip what is there.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `CONSENTVAULT_ENV=NAME make demo` and `make demo ENV=NAME` both pick NAME.
ENV ?= $(or $(CONSENTVAULT_ENV),local)

export CONSENTVAULT_ENV := $(ENV)
# CONSENTVAULT_ENV_FILE beats CONSENTVAULT_ENV in the commands; an ENV= given
# on make's command line must still win over one left in the shell.
ifeq ($(origin ENV),command line)
unexport CONSENTVAULT_ENV_FILE
endif
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1

.PHONY: help setup synth hcl demo test check sandbox-up sandbox-down clean

help:
	@echo "make demo    run the whole story on the local sandbox"
	@echo "make test    run every test (starts and stops its own sandbox)"
	@echo "make synth   synthesize the stacks for ENV (default: local) into cdktf.out/"
	@echo "make hcl     the same as plain Terraform HCL (cdktf synth --hcl)"
	@echo "make check   formatter and linter"

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[infra,sandbox,dev]'
	$(BIN)/python -m compileall -q scripts stacks main.py > /dev/null
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	rm -rf cdktf.out
	$(BIN)/python main.py

hcl: setup
	rm -rf cdktf.out
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdktf synth --hcl

demo: setup synth
	$(BIN)/consentvault demo

test: setup
	$(BIN)/python -m pytest

check: setup
	$(BIN)/ruff format --check scripts stacks tests bench main.py
	$(BIN)/ruff check scripts stacks tests bench main.py

sandbox-up: setup synth
	$(BIN)/consentvault sandbox up

sandbox-down: setup
	$(BIN)/consentvault sandbox down

clean:
	rm -rf cdktf.out
