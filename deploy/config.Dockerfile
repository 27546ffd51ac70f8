# syntax=docker/dockerfile:1
#
# The one-shot `config` service of docker-compose: `stack render -out DIR`
# fills nginx/nginx.conf.tmpl, ory/kratos/kratos.yml.tmpl and
# ory/keto/keto.yml.tmpl from the environment, the same way `make up` does.
# The context is the repository root.

ARG GO_VERSION=1.24
ARG ALPINE_VERSION=3.20

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# The golang image pins GOTOOLCHAIN=local; auto fetches a newer toolchain
# should a go.mod ask for one (bumping GO_VERSION avoids the download).
ENV CGO_ENABLED=0 GOTOOLCHAIN=auto
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/stack ./cmd/stack

FROM alpine:${ALPINE_VERSION}
RUN addgroup -S -g 10001 app && adduser -S -D -H -u 10001 -G app app \
    && mkdir -p /config && chown app:app /config
# The templates, at the paths stack render expects under its root (here the
# working directory).
WORKDIR /app
COPY nginx/nginx.conf.tmpl nginx/
COPY ory/kratos/kratos.yml.tmpl ory/kratos/
COPY ory/keto/keto.yml.tmpl ory/keto/
COPY --from=build /out/stack /usr/local/bin/stack
# An empty named volume mounted at /config takes this folder's owner, so
# the unprivileged user can write the rendered files into it.
VOLUME /config
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/stack"]
CMD ["render", "-out", "/config"]
