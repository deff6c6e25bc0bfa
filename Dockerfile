# syntax=docker/dockerfile:1
# Container image of ckpt-replicator: one daemon per source/target cluster pair.
# Stage "build" compiles the TypeScript to dist/; stage "deps" installs the production
# dependencies only and builds the optional kerberos addon against libkrb5-dev; stage
# "runtime" holds those, dist/, the example config and MIT Kerberos' libraries, has no
# npm, npx, corepack or yarn, and runs as uid 10001.
#
# The base image is pinned by digest and has no default: resolve the digest of the tag you
# choose once, record it (e.g. in your CI variables), and pass it in:
#
#   docker pull node:22-bookworm-slim
#   NODE_IMAGE=$(docker inspect --format '{{index .RepoDigests 0}}' node:22-bookworm-slim)   # node@sha256:<64 hex>
#   docker build --build-arg NODE_IMAGE="$NODE_IMAGE" \
#     --build-arg REVISION="$(git rev-parse HEAD)" --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
#     -t ckpt-replicator:0.1.0 .
#   docker run --rm -v /etc/ckpt-replicator/prod-dr.yaml:/etc/ckpt-replicator/config.yaml:ro \
#     -p 9464:9464 ckpt-replicator:0.1.0
#
# A NODE_IMAGE without @sha256:<digest> fails the build. The config must set
# metrics.listen: 0.0.0.0:9464 (or [::]:9464) for the port to be reachable from outside the
# container; the default 127.0.0.1:9464 is container-local.

# Form: <name>[:<tag>]@sha256:<64 hex digits>, e.g. node:22-bookworm-slim@sha256:<digest>.
ARG NODE_IMAGE

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
ARG NODE_IMAGE
RUN case "${NODE_IMAGE}" in \
      *@sha256:????????????????????????????????????????????????????????????????) ;; \
      *) echo "NODE_IMAGE must be pinned by digest (<name>:<tag>@sha256:<digest>), got: ${NODE_IMAGE}" >&2; exit 1 ;; \
    esac
WORKDIR /src
# Dependencies first so this layer is cached until the lockfile changes. No dependency
# needs an install script (@node-rs/crc32 ships prebuilt per-platform packages).
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# The optional `kerberos` addon (SPNEGO for Kerberized clusters) is compiled here against MIT
# Kerberos: its prebuilt download is skipped (its host is often unreachable). The compiler and
# headers stay in this stage; the runtime gets the built addon and the shared libraries only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libkrb5-dev g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency's install script runs (dist/ comes from the build stage)...
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts
# ...except the kerberos addon's own build, from source, against the image's Node headers; the
# check fails the image build when it did not build.
RUN npm_config_build_from_source=true npm_config_nodedir=/usr/local npm rebuild kerberos --foreground-scripts \
 && node -e 'import("kerberos").then(() => console.log("kerberos addon: loads"))'

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="ckpt-replicator" \
      org.opencontainers.image.description="Keeps a restorable disaster-recovery copy of Apache Flink checkpoints on a second HDFS cluster" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# V8's heap cap, as deploy/kubernetes and deploy/systemd set it (about 75% of a 512 MiB limit): V8
# collects before it grows. Give the container a memory limit to match; raise both for larger trees.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=384 \
    CKPT_REPLICATOR_REVISION=${REVISION}
WORKDIR /app
# The runtime needs node only: no package manager is left in the image.
# MIT Kerberos' shared libraries for the kerberos addon (libgssapi_krb5, libkrb5).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgssapi-krb5-2 libkrb5-3 \
 && rm -rf /var/lib/apt/lists/*
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && groupadd --system --gid 10001 ckpt \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin ckpt \
 && mkdir -p /etc/ckpt-replicator
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY config ./config
USER 10001:10001

# / (status page), /metrics, /healthz, /readyz, /status (metrics.listen in the config).
EXPOSE 9464

# No HEALTHCHECK: the port depends on metrics.listen; on Kubernetes use the probes in
# deploy/kubernetes/deployment.yaml (/healthz liveness, /readyz readiness).
#
# Signals: node runs as PID 1 without an init. That is fine for `run`: the daemon installs
# its own SIGTERM/SIGINT (graceful stop: copies aborted, temporaries removed, lease
# released within 10 s) and SIGHUP (config reload) handlers, and it spawns no children
# to reap. Caveat: the kernel drops any signal PID 1 has no handler for, so a SIGTERM that
# arrives before the daemon has installed its handlers is lost and the container is killed
# only at the end of its grace period. `docker run --init` (tini as PID 1) avoids that.
ENTRYPOINT ["node", "/app/dist/cli/bin.js"]
CMD ["run", "--config", "/etc/ckpt-replicator/config.yaml"]
