# Build: the release binary, with the locked dependencies.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY migrations migrations
COPY assets assets
COPY demo demo
COPY fakes fakes
# No .git here: the commit `connected --version` names is given (--build-arg CONNECTED_COMMIT=…).
ARG CONNECTED_COMMIT=unknown
ENV CONNECTED_COMMIT=$CONNECTED_COMMIT
RUN cargo build --release --locked --bin connected

# Run: a small Debian with CA certificates (the HTTP client trusts the system's roots) and
# a user without privileges.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/connected connected
COPY --from=build /src/target/release/connected /usr/local/bin/connected
USER connected
WORKDIR /var/lib/connected
ENV LISTEN_ADDR=0.0.0.0:5000 \
    DATABASE_URL=sqlite:///var/lib/connected/connected.db
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["connected", "healthcheck"]
ENTRYPOINT ["connected"]
CMD ["serve"]
