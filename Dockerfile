# syntax=docker/dockerfile:1
# Container image of ckpt-replicator: one daemon per source/target cluster pair.
# Stage "build" compiles the TypeScript to dist/; stage "runtime" holds only the
# production dependencies, dist/ and the example config, and runs as uid 10001.
#
#   docker build -t ckpt-replicator:0.1.0 .
#   docker run --rm -v /etc/ckpt-replicator/prod-dr.yaml:/etc/ckpt-replicator/config.yaml:ro \
#     -p 9464:9464 ckpt-replicator:0.1.0
#
# The config must set metrics.listen: 0.0.0.0:9464 (or [::]:9464) for the port to be
# reachable from outside the container; the default 127.0.0.1:9464 is container-local.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first so this layer is cached until the lockfile changes. No dependency
# needs an install script (@node-rs/crc32 ships prebuilt per-platform packages).
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY config ./config

# A dedicated unprivileged user; the k8s manifests run as the same uid/gid.
RUN groupadd --system --gid 10001 ckpt \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin ckpt \
 && mkdir -p /etc/ckpt-replicator
USER 10001:10001

# /metrics, /healthz, /readyz, /status (metrics.listen in the config).
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
