# One image for every service; docker-compose.yml picks the entry point.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY packages ./packages
COPY services ./services
COPY schemas ./schemas
RUN npm install --no-audit --no-fund && npx turbo run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# UV_THREADPOOL_SIZE: embedded chDB runs every statement on a libuv worker
# thread, which file I/O shares; the default 4 is too few (see README).
ENV NODE_ENV=production CDP_DATA_DIR=/data UV_THREADPOOL_SIZE=16
WORKDIR /app
COPY --from=build /app /app
# The data directory must be writable by the unprivileged user the services run as.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
# 8080: ingest (all-in-one: ingest and the API); 8081: the API service run alone.
EXPOSE 8080 8081
USER node
CMD ["node", "--max-semi-space-size=32", "packages/platform/dist/main.js"]
