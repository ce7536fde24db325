# syntax=docker/dockerfile:1
# TrekTribe API image. Three stages: build (all dependencies, `nest build`), prod-deps (production
# dependencies only), runtime (node_modules of prod-deps + dist, as the unprivileged `node` user).
# Migrations need no step of their own: the app applies them at start under a PostgreSQL advisory
# lock, so instances starting together migrate once (docs/OPERATIONS.md).
ARG NODE_VERSION=20.20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (nest build) would run before the sources are here; nothing else
# the build needs has an install script.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY nest-cli.json tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
COPY test/support/razorpay-emulator ./test/support/razorpay-emulator
RUN npx nest build

FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# DATA_DIR holds uploads (payment proofs): a volume, writable by the app's user only.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# Liveness only (no dependency): a database outage should not get every container restarted.
# Load balancers should probe /api/v1/health/ready instead.
HEALTHCHECK --interval=15s --timeout=3s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/api/v1/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: the app stops accepting, finishes in-flight requests and closes its pool (main.ts).
STOPSIGNAL SIGTERM
CMD ["node", "dist/apps/api/src/main.js"]
