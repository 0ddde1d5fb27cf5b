# The tsflyte image: `tsflyte` (the Kubernetes driver runs it) and `tsflyte-execute` (every task pod runs it) on the
# PATH, from this repository. `ghcr.io/tsflyte/tsflyte:<version>` is the image tasks get when no --image is given.
# Build it from a clone (the package comes from `npm pack`, so nothing is fetched from a registry but its packages):
#
#   npm ci && npm pack && docker build -t ghcr.io/tsflyte/tsflyte:0.1.0 .
#
# A project's own image starts FROM it and installs the packages its modules import (see the README).
FROM node:22-slim
COPY tsflyte-*.tgz /tmp/
RUN npm install --global --no-audit --no-fund /tmp/tsflyte-*.tgz && rm /tmp/tsflyte-*.tgz
