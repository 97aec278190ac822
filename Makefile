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
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	# Byte-compile arithnet once: where PYTHONDONTWRITEBYTECODE is set, imports would compile it on every run.
	$(VENV)/bin/python -m compileall -q src > /dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/arithnet train div

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup -q

clean:
	rm -rf $(VENV) runs
