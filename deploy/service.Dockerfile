# syntax=docker/dockerfile:1
#
# One image per service: docker-compose builds it five times with
# --build-arg SERVICE=auth|tickets|orders|payments|expiration.
# The context is the repository root: the service is built in the go.work
# workspace, beside pkg/ and the other modules it names.

ARG GO_VERSION=1.24
ARG ALPINE_VERSION=3.20

FROM golang:${GO_VERSION} AS build
ARG SERVICE
WORKDIR /src
# The golang image pins GOTOOLCHAIN=local; auto fetches a newer toolchain
# should a go.mod ask for one (bumping GO_VERSION avoids the download).
ENV CGO_ENABLED=0 GOTOOLCHAIN=auto
COPY . .
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<name>" >&2; exit 1; }
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/service "./${SERVICE}"

# Alpine rather than distroless: busybox wget serves the healthchecks.
FROM alpine:${ALPINE_VERSION}
ARG SERVICE
RUN addgroup -S -g 10001 app && adduser -S -D -H -u 10001 -G app app
COPY --from=build /out/service /usr/local/bin/service
USER 10001:10001
ENV HTTP_ADDR=:4000 SERVICE_NAME=${SERVICE}
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD wget -q -O /dev/null http://127.0.0.1:4000/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/service"]
