"""Checks the deployment files that cannot be run here (no container engine): the compose
file parses and wires the API to PostgreSQL, the Dockerfile is a multi-stage, non-root image
with a health check, and docs/deploy.md, docs/configuration.md and .env.example say what
they configure."""
import re
import sys
from pathlib import Path

import yaml

root = Path(__file__).resolve().parent.parent
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


compose = yaml.safe_load((root / "docker-compose.yml").read_text())
services = compose.get("services", {})
api, db = services.get("api", {}), services.get("db", {})
check(api and db, "compose needs services api and db")
check("5000:5000" in api.get("ports", []), "the API publishes port 5000")
check(api.get("depends_on", {}).get("db", {}).get("condition") == "service_healthy",
      "the API waits for a healthy database")
check(str(api.get("environment", {}).get("DATABASE_URL", "")).startswith("postgres://"),
      "the API uses PostgreSQL")
check(api.get("env_file") == ".env", "tokens come from .env")
check("healthcheck" in db, "the database has a health check")
redis_service = services.get("redis", {})
check("healthcheck" in redis_service, "Redis has a health check")
check(str(api.get("environment", {}).get("REDIS_URL", "")).startswith("redis://"),
      "the API shares its cache through Redis")
volume = next((v.split(":")[0] for v in db.get("volumes", []) if ":" in v), None)
check(volume in (compose.get("volumes") or {}), "the database keeps its data in a named volume")

dockerfile = (root / "Dockerfile").read_text()
stages = re.findall(r"^FROM\s+\S+", dockerfile, re.M)
check(len(stages) >= 2, "the Dockerfile is multi-stage")
check(re.search(r"^USER\s+(?!root)\S+", dockerfile, re.M), "the image runs as a non-root user")
check("ca-certificates" in dockerfile, "the runtime image has CA certificates")
check(re.search(r"^HEALTHCHECK .*connected\", \"healthcheck\"", dockerfile, re.M),
      "the health check asks /healthz through `connected healthcheck`")
check(re.search(r"^EXPOSE 5000$", dockerfile, re.M), "the image exposes 5000")
check("LISTEN_ADDR=0.0.0.0:5000" in dockerfile, "the container listens on 0.0.0.0:5000")


copied = {source for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.M)
          for source in line.split()[:-1]}
cargo = (root / "Cargo.toml").read_text()
members = re.search(r"members\s*=\s*\[([^\]]*)\]", cargo)
for member in re.findall(r'"([^"]+)"', members.group(1) if members else ""):
    check(member == "." or member in copied, f"the Dockerfile copies the workspace member {member}")
for path in ["Cargo.toml", "Cargo.lock", "build.rs", "src", "migrations", "assets", "demo"]:
    check(path in copied, f"the Dockerfile copies {path}")
for path in copied:
    check((root / path).exists(), f"the Dockerfile copies {path}, which exists")

deploy_page = (root / "docs/deploy.md").read_text()
for command in ["docker compose up", "docker build -t connected",
                "docker run", "-p 5000:5000", "cp .env.example .env"]:
    check(command in deploy_page, f"docs/deploy.md shows `{command}`")
environment = api.get("environment") or {}
check(environment.get("AUTH") == "keys", "the compose file's API requires keys (AUTH: keys)")
image = api.get("image", "")
check(image.split(":")[0] == "connected", "compose builds the image docs/deploy.md names")

example = (root / ".env.example").read_text()
# A variable is listed set (`NAME=value`) or at its default, commented (`# NAME=value`).
variables = set(re.findall(r"^(?:#\s?)?([A-Z_]+)=", example, re.M))
set_in_example = set(re.findall(r"^([A-Z_]+)=", example, re.M))

# What the image sets, `docker run --env-file .env` overrides: .env.example must not set it,
# or a copy of it would move the container's address (or database) where the image did not
# put it.
image_env = {}
for instruction in re.findall(r"^ENV\s+((?:.*\\\n)*.*)$", dockerfile, re.M):
    for name, value in re.findall(r"([A-Z_]+)=(\S+)", instruction):
        image_env[name] = value
check("LISTEN_ADDR" in image_env, "the image sets LISTEN_ADDR")
for name in sorted(image_env):
    check(name not in set_in_example,
          f".env.example sets {name}, which overrides the image's {image_env[name]} under --env-file"
          " (comment it out)")
listen = str(api.get("environment", {}).get("LISTEN_ADDR", image_env.get("LISTEN_ADDR", "")))
check(listen.startswith("0.0.0.0:") or listen.startswith("[::]:"),
      f"the compose API listens on every address, not {listen}")
settings_page = (root / "docs/configuration.md").read_text()
for var in variables:
    check(f"`{var}`" in settings_page, f"docs/configuration.md documents {var}")
command_line = "".join(path.read_text() for path in sorted((root / "src/inbound/cli").glob("*.rs")))
flags = re.findall(r"env = \"([A-Z_]+)\"", command_line)
check(flags, "the command line's settings are found (src/inbound/cli/*.rs)")
for var in flags:
    check(var in variables, f".env.example lists {var}")

if problems:
    print("deployment check failed:")
    for p in problems:
        print(" -", p)
    sys.exit(1)
print(f"deployment files: OK ({len(stages)} build stages, {len(services)} services, "
      f"{len(variables)} variables documented)")
