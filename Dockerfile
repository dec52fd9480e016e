# Kinema as a container image. Not built on the project's CI machines (no Docker there); kept in
# step with scripts/setup.sh and scripts/build.sh, which it runs.
#   docker build -t kinema .
#   docker run -p 3000:3000 -v kinema-data:/var/lib/kinema \
#     -e KINEMA_PUBLIC_URL=https://kinema.example.com -e DATABASE_URL=postgres://… kinema

# --- build: the server with the hydrated WASM front end embedded (cargo-leptos) ---------------
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The tools first, in their own layers, so code changes do not reinstall them.
COPY Cargo.toml Cargo.lock ./
COPY scripts/ scripts/
COPY end2end/package.json end2end/package-lock.json end2end/
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-leptos --version 0.3.10 --locked \
 && cargo install wasm-bindgen-cli --version "$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)" \
 && (cd end2end && npm ci --no-audit --no-fund)
COPY . .
ENV CARGO_TARGET_DIR=/src/target
# Release build with the site precompressed and embedded in the binary (server/build.rs).
RUN scripts/build.sh \
 && install -D target/release/kinema-server /out/kinema-server

# --- runtime: one binary, no toolchain ---------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/kinema --shell /usr/sbin/nologin kinema \
 && install -d -o kinema -g kinema /var/lib/kinema
COPY --from=build /out/kinema-server /usr/local/bin/kinema-server
USER kinema
WORKDIR /var/lib/kinema
ENV KINEMA_DATA_DIR=/var/lib/kinema \
    KINEMA_LISTEN=0.0.0.0:3000 \
    KINEMA_LOG_FORMAT=json
EXPOSE 3000
VOLUME ["/var/lib/kinema"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD curl -fsS http://127.0.0.1:3000/readyz || exit 1
# SIGTERM stops it gracefully (KINEMA_SHUTDOWN_SECONDS); give `docker stop -t 15` or more.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kinema-server"]
CMD ["serve"]
