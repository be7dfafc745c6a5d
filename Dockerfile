# The batchbox image: one `batch` binary holding every batch; an ECS task definition's command
# names the batch (["history-prune"]). The root file system is read-only on ECS; the batch writes
# its temporary files to /tmp (a volume there).
#
#   docker build -t batchbox .
#       compiles the binary in the `build` stage (dependencies cached in their own layer)
#   docker build --build-arg BINARY_SOURCE=prebuilt --build-arg BATCH_BINARY=target/release/batch .
#       takes a binary already built on the host instead (glibc-linked: built on Debian 12 or older);
#       BuildKit (and buildah) then skip the `build` stage
#
# Either way the final image is the `runtime` stage; only where its binary comes from differs.

# `build` (compile here) or `prebuilt` (BATCH_BINARY from the build context).
ARG BINARY_SOURCE=build

# Base images are pinned by tag (Rust 1.95 = Cargo.toml's rust-version; Debian 12 for both, so the
# binary's glibc matches). scripts/check-image.sh stands in for debian:bookworm-slim under this
# exact name; a stand-in cannot carry an upstream @sha256 digest.

# ---------------------------------------------------------------------------------------------
FROM docker.io/library/rust:1.95-slim-bookworm AS build
WORKDIR /src

# Dependencies first: this layer is rebuilt only when Cargo.toml or Cargo.lock change. The
# placeholder crate's own artifacts are then removed: COPY keeps the sources' (older) modification
# times, so cargo would otherwise take the placeholder binary for up to date.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --locked --release \
    && cargo clean --release --package batchbox \
    && rm -rf src

# The sources. migrations/ is embedded into the binary at compile time (sqlx::migrate!).
COPY src ./src
COPY migrations ./migrations
RUN cargo build --locked --release \
    && install -D -m 0755 target/release/batch /out/batch

# ---------------------------------------------------------------------------------------------
FROM scratch AS prebuilt
# Path of the host-built binary, relative to the build context.
ARG BATCH_BINARY=target/release/batch
COPY ${BATCH_BINARY} /out/batch

# ---------------------------------------------------------------------------------------------
FROM ${BINARY_SOURCE} AS binary

# ---------------------------------------------------------------------------------------------
FROM docker.io/library/debian:bookworm-slim AS runtime

# CA certificates only: S3 and PostgreSQL over TLS verify against the system bundle.
# ca-certificates is not version-pinned on purpose: bookworm only publishes security and point
# updates for it, the archive drops superseded versions (a pin would break the build), and the
# bundle should be the newest one.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 batch \
    && useradd --no-log-init --uid 10001 --gid 10001 --home-dir /home/batch --create-home \
        --shell /usr/sbin/nologin batch

COPY --from=binary /out/batch /usr/local/bin/batch

# ECS mounts a task volume on /tmp (the root file system is read-only). On Fargate such a bind
# mount is root-owned 0755, so user 10001 could not write to it, unless the image declares the
# same path as a VOLUME: then the volume starts with the image's /tmp, mode 1777.
VOLUME ["/tmp"]

USER 10001:10001
WORKDIR /home/batch
ENTRYPOINT ["/usr/local/bin/batch"]
CMD ["list"]
