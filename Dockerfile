# source-billcom as an Airbyte connector image (Airbyte's convention: the protocol's commands
# as arguments to the ENTRYPOINT, AIRBYTE_ENTRYPOINT naming it, io.airbyte.* labels).
#
# UNTESTED: this file has never been built or run; no Docker engine was available where it
# was written. tests/test_dockerfile.py only checks that it agrees with pyproject.toml.
#   docker build -t airbyte/source-billcom:dev .
#   docker run --rm airbyte/source-billcom:dev spec
#   docker run --rm -v "$PWD/secrets:/secrets" airbyte/source-billcom:dev check --config /secrets/config.json
FROM python:3.11-slim

WORKDIR /airbyte/integration_code
COPY pyproject.toml README.md ./
COPY bill_core ./bill_core
COPY bill_emulator ./bill_emulator
COPY source_billcom ./source_billcom
COPY tap_billcom ./tap_billcom
COPY target_billcom ./target_billcom
RUN pip install --no-cache-dir . && useradd --create-home airbyte
USER airbyte

ENV AIRBYTE_ENTRYPOINT="source-billcom"
ENTRYPOINT ["source-billcom"]

LABEL io.airbyte.name=airbyte/source-billcom
LABEL io.airbyte.version=0.1.0
