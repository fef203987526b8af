# syntax=docker/dockerfile:1
# Multi-stage build: a static binary (no cgo) in a distroless image, running as non-root.
#   docker build -t kitaportal .
#   docker run -e DATABASE_URL=… -e REDIS_URL=… -e AUTH_SECRET=… -e BASE_DOMAIN=… -e PUBLIC_URL=https://… -p 8080:8080 kitaportal serve
#   docker run -e DATABASE_URL=… kitaportal migrate up
#   docker run -e DATABASE_URL=… kitaportal tenants sync
#   docker run -e DATABASE_URL=… -e REDIS_URL=… -e SMTP_URL=… -e AUTH_SECRET=… kitaportal worker

# Browser libraries (Leaflet) from npm, as pinned in package-lock.json.
FROM node:20-bookworm-slim AS web
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
COPY --from=web /src/node_modules/leaflet/dist/leaflet.js /src/node_modules/leaflet/dist/leaflet.css /src/web/static/vendor/leaflet/
COPY --from=web /src/node_modules/leaflet/dist/images /src/web/static/vendor/leaflet/images
COPY --from=web /src/node_modules/leaflet/LICENSE /src/web/static/vendor/leaflet/
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/kitaportal ./cmd/kitaportal

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kitaportal /usr/local/bin/kitaportal
COPY --from=build /src/tenants /etc/kitaportal/tenants
ENV APP_ENV=production \
    HTTP_ADDR=:8080 \
    METRICS_ADDR=:9090 \
    LOG_FORMAT=json \
    TENANTS_DIR=/etc/kitaportal/tenants \
    STORAGE_DIR=/home/nonroot/files
# Uploaded photos: mount a volume at /home/nonroot/files (shared by every serve process).
USER nonroot:nonroot
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/kitaportal"]
CMD ["serve"]
