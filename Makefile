# mcr-nb project commands. Every target creates or reuses .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv espeak demo test check export clean-nbs readme docs bench

$(STAMP): settings.ini setup.py constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP) espeak  ## create or update the virtual environment

# eSpeak NG speaks the audio-visual digits (config avdigits). Installed with apt-get when that can run (as root);
# otherwise the install command is printed and the tests that need it are skipped (required in CI).
ESPEAK_HELP := eSpeak NG (espeak-ng) is missing: the audio-visual digits need it. Install it with 'sudo apt-get install espeak-ng' (Debian/Ubuntu) or 'brew install espeak-ng' (macOS).
espeak:
	@command -v espeak-ng >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing espeak-ng with apt-get"; (apt-get install -y -qq espeak-ng >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq espeak-ng >/dev/null)) || echo "$(ESPEAK_HELP)"; \
	  else echo "$(ESPEAK_HELP)"; fi; }

demo: $(STAMP) espeak  ## the main job: MCR vs baselines on the default synthetic competition dataset
	$(BIN)/mcr_bench --preset readme --out runs/readme

check: $(STAMP)  ## nbdev_export / nbdev_clean change nothing and README.md is current
	$(BIN)/python tools/check_repo.py

test: $(STAMP) espeak  ## every test: repository checks, every notebook (default flags) and the pytest files
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
