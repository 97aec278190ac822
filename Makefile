# Two entry points, each installing what it needs first:
#   make demo   trains 100 seeds of ÷ and writes runs/latest/{result.json,weights.png,loss.png}
#   make test   runs the whole test suite
# The virtual environment is rebuilt only when pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test clean

$(STAMP): pyproject.toml constraints.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --no-compile --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	# Byte-compile once, here: where PYTHONDONTWRITEBYTECODE is set, imports would compile on every run. pip's own
	# compile takes one file at a time and every package's test suite (over half of the install); compileall runs
	# on every core and leaves those suites out. A file it cannot compile (exit 1) is compiled when imported.
	-$(VENV)/bin/python -m compileall -q -j 0 -x '/tests?/|/testing/_internal/' $(VENV)/lib src > /dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/arithnet train div

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup -q

clean:
	rm -rf $(VENV) runs
