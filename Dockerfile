# facegate: one image for `facegate simulator`, `facegate gateway` and the other commands.
# The sources run through tsx (a runtime dependency), so there is no build stage.
FROM node:20-bookworm-slim

# ffmpeg from Debian: the simulator renders its scenes with it and every gateway decodes with it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so a source change does not reinstall them. .npmrc must be there before
# npm ci: it makes onnxruntime-node skip its CUDA download. typescript is a dev dependency only.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@ffmpeg-installer \
 && npm cache clean --force
# (@ffmpeg-installer is the optional static ffmpeg for machines without one; Debian's is on the PATH.)

# The sources; .dockerignore keeps tests, results and local caches out.
COPY . .

# Runs as the unprivileged `node` user of the base image. The scene cache is a named volume in
# docker-compose.yml (simulator only, so no VOLUME here): created here so that a new volume
# starts with this directory's owner.
RUN mkdir -p /app/.facegate/scenes && chown -R node:node /app/.facegate
USER node

# RTSP (simulator), /metrics and /healthz (gateway).
EXPOSE 8554 8080

ENTRYPOINT ["node", "--max-semi-space-size=1", "--single-threaded-gc", "--heap-growing-percent=100", "bin/facegate.js"]
CMD ["--help"]
