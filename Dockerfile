# Multi-stage image: `gateway` and `runner` targets share one build.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS base
WORKDIR /app
ENV NODE_ENV=production FLANSIBLE_HOST=0.0.0.0
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json rbac.json ./
COPY config ./config
COPY inventories ./inventories
COPY playbooks ./playbooks
# The runner's Ansible callback plugin (Python: nest build does not copy it).
COPY libs/execution/ansible ./libs/execution/ansible
# The data directory (runners' temporary files; SQLite in an embedded container) belongs to the
# unprivileged user, closed to others; /app itself stays root's.
RUN install -d -m 0700 -o node -g node /app/data
USER node

FROM base AS gateway
EXPOSE 3000
CMD ["node", "dist/apps/gateway/src/main.js"]

FROM base AS runner
USER root
RUN apt-get update && apt-get install -y --no-install-recommends ansible-core git openssh-client && rm -rf /var/lib/apt/lists/*
# Runs as `node` (uid 1000). No SSH key or known_hosts in the image: mount them read-only at
# /home/node/.ssh (docker-compose.yml, README "Hardened defaults").
USER node
CMD ["node", "dist/apps/runner/src/main.js"]
