# huitian-brain service image (used by docker-compose.yml).
# Node.js 24, the current LTS line (Node 20 reached end of life in April 2026); CI runs the
# unit tests on it (scripts/ci/node24.sh) as well as on the machine's Node 20.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY console ./console
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HUITIAN_DATA_DIR=/data HUITIAN_HOST=0.0.0.0
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY demo ./demo
# The data directory belongs to the user the service runs as. A named volume mounted on
# /data (docker-compose.yml) starts as a copy of it, owner included; without this it was
# root's, and the service could not create its store.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
EXPOSE 8080
USER node
HEALTHCHECK --interval=10s --timeout=3s --retries=6 CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# 64 MB semi-spaces: a batch of events dies young instead of being copied by scavenges (README, Performance).
CMD ["node", "--max-semi-space-size=64", "bin/huitian.js", "serve"]
