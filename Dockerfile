# cellgate container image.
#   docker build -t cellgate .
#   docker run --rm -p 5673:5673 -v "$PWD/cellgate.yaml:/etc/cellgate/config.yaml:ro" \
#     -e CELLGATE_CONFIG=/etc/cellgate/config.yaml cellgate
# Inside a container 127.0.0.1 is unreachable from outside, so the default command binds the
# AMQP listener on every interface (--amqp-host 0.0.0.0, overriding listen.amqp.host).

# ---- build: all dependencies, compile TypeScript to dist/ ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --include=dev --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json

# ---- runtime: production dependencies, compiled code, schemas ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
COPY examples ./examples
COPY bin ./bin
USER node
EXPOSE 5673
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--amqp-host", "0.0.0.0"]
