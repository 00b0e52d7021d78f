# mcr-nb project commands. Every target creates or reuses .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test check export clean-nbs readme docs bench

$(STAMP): settings.ini setup.py constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)  ## create or update the virtual environment

demo: $(STAMP)  ## the main job: MCR vs baselines on the default synthetic competition dataset
	$(BIN)/mcr_bench --preset readme --out runs/readme

check: $(STAMP)  ## nbdev_export / nbdev_clean change nothing and README.md is current
	$(BIN)/python tools/check_repo.py

test: $(STAMP)  ## every test: repository checks, every notebook (default flags) and the pytest files
	$(BIN)/python tools/check_repo.py
	$(BIN)/python -m pytest -n 2 -q -rs -p no:cacheprovider tests

export: $(STAMP)
	$(BIN)/nbdev_export

clean-nbs: $(STAMP)
	$(BIN)/nbdev_clean

readme: $(STAMP)  ## regenerate README.md from nbs/index.ipynb
	$(BIN)/python tools/make_readme.py

docs: $(STAMP)  ## build the documentation site into _docs/ from the committed notebooks
	$(BIN)/python tools/build_docs.py
