"""Settings from environment variables (prefix BILLING_, plus DATABASE_URL) and `.env`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from resolvers.limits import Limits

SYMMETRIC = ("HS256", "HS384", "HS512")
ASYMMETRIC = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA")
# an origin as browsers send it: scheme, host, optional port; no path, not even "/"
_ORIGIN = re.compile(r"^https?://[^/\s:]+(:\d{1,5})?$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and is one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BILLING_", env_file=".env", extra="ignore", use_attribute_docstrings=True
    )

    # Each field's docstring is its meaning, listed by `billing settings`.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "BILLING_DATABASE_URL")
    )
    """PostgreSQL URL (DATABASE_URL); unset: an embedded PostgreSQL in BILLING_DATA_DIR."""
    data_dir: Path = Path(".data")
    """Where the embedded PostgreSQL keeps its files."""
    host: str = "127.0.0.1"
    """Address `billing serve` listens on."""
    port: int = Field(default=8000, ge=1, le=65535)
    """Port `billing serve` listens on."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Lowest level logged."""
    # a service's output is read by a log collector, hence json off a terminal
    log_format: Literal["json", "console"] | None = None
    """json (one object a line) or console; unset: console on a terminal, json otherwise."""
    # an operator's endpoint: serve it only where operators reach it, or set the token
    metrics: bool = True
    """Serve Prometheus metrics at /metrics."""
    metrics_token: SecretStr | None = None
    """Bearer token /metrics requires (Prometheus sends `Authorization: Bearer`)."""
    jwt_issuer: str = "billing"
    """The iss claim tokens must carry."""
    jwt_audience: str = "billing-api"
    """The aud claim tokens must carry."""
    jwt_algorithms: list[str] = ["HS256"]
    """Token algorithms accepted (JSON list); they pick the key family."""
    jwt_secret: SecretStr | None = None
    """HS* shared secret, at least 32 characters (`make .env` writes one)."""
    jwt_public_key: str | None = None
    """PEM public key for RS/ES/PS/EdDSA tokens."""
    jwt_private_key: SecretStr | None = None
    """PEM private key `billing token` signs with for asymmetric algorithms."""
    graphiql: bool = True
    """Serve GraphiQL at /graphql for browsers."""
    # `billing keys generate` writes a pair; the signing key's own public key is always listed
    license_signing_key: Path | None = None
    """The <kid>.pem file licenses are signed with."""
    license_public_keys: list[Path] = []
    """<kid>.pub.pem files licenses may be signed with (JSON list of paths)."""
    # Request limits (docs/limits.md)
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    """Largest request body, refused before parsing."""
    max_query_bytes: int = Field(default=100_000, ge=1024)
    """Largest GraphQL document."""
    max_header_bytes: int = Field(default=16_384, ge=1024)
    """Largest request head (uvicorn's h11 buffer)."""
    max_depth: int = Field(default=Limits.depth, ge=1)
    """Deepest selection a document may nest."""
    max_aliases: int = Field(default=Limits.aliases, ge=0)
    """Most aliases in a document."""
    max_field_repeats: int = Field(default=Limits.field_repeats, ge=1)
    """Most times one field may be selected in one selection set."""
    max_fields: int = Field(default=Limits.fields, ge=100)
    """Most fields in a document."""
    max_tokens: int = Field(default=Limits.tokens, ge=100)
    """Most tokens the parser reads."""
    max_cost: int = Field(default=Limits.cost, ge=1)
    """Highest estimated cost (objects an answer may hold)."""
    max_list_items: int = Field(default=Limits.list_items, ge=1)
    """Longest list argument."""
    max_string_length: int = Field(default=Limits.string_length, ge=100)
    """Longest string argument."""
    rate_limit_per_minute: int = Field(default=30, ge=1)
    """Anonymous calls per client and minute."""
    idle_in_transaction_timeout_ms: int = Field(default=60_000, ge=1000)
    """A transaction left open this long is ended by PostgreSQL (a backstop)."""
    # jobs and migrations run without it
    statement_timeout_ms: int = Field(default=10_000, ge=100)
    """A server statement running longer is cancelled (QUERY_TIMEOUT)."""
    # a request holds one while it runs, so this bounds the requests a process runs at once
    pool_size: int = Field(default=20, ge=1, le=1000)
    """Database connections each server process keeps open."""
    gc_interval_ms: int = Field(default=1000, ge=0, le=3_600_000)
    """The cyclic garbage collector runs this often (0: CPython's own schedule)."""
    # HTTP (docs/http.md)
    cors_origins: list[str] = []
    """Browser origins allowed to call the API (JSON list; none: no CORS headers)."""
    gzip_min_bytes: int = Field(default=1024, ge=0)
    """Answers from this size on are gzipped for clients that accept it."""
    persisted_queries_bytes: int = Field(default=5_000_000, ge=0)
    """Bytes of documents kept for automatic persisted queries (0: APQ off)."""
    # OpenTelemetry tracing (api/tracing.py)
    otel_endpoint: str | None = None
    """OTLP/HTTP collector URL for spans, e.g. http://otel-collector:4318 (unset: off)."""
    otel_statements: bool = False
    """With tracing on, also a span per SQL statement."""

    def limits(self) -> Limits:
        """The document limits the schema enforces."""
        return Limits(
            depth=self.max_depth,
            aliases=self.max_aliases,
            field_repeats=self.max_field_repeats,
            fields=self.max_fields,
            tokens=self.max_tokens,
            cost=self.max_cost,
            list_items=self.max_list_items,
            string_length=self.max_string_length,
        )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("is not a URL like postgresql://user@host:5432/dbname") from None
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"must be a postgresql:// URL, not {url.get_backend_name()}://")
        if not url.database:
            raise ValueError("names no database (postgresql://user@host:5432/dbname)")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        wrong = [o for o in value if o != "*" and not _ORIGIN.match(o)]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)}: each must be an origin like https://app.example.com"
                " (scheme, host and port only) or *"
            )
        return value

    @field_validator("otel_endpoint")
    @classmethod
    def _collector_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError("must be the collector's OTLP/HTTP URL, like http://collector:4318")
        return value

    @field_validator("jwt_algorithms")
    @classmethod
    def _known_algorithms(cls, value: list[str]) -> list[str]:
        unknown = [a for a in value if a not in SYMMETRIC + ASYMMETRIC]
        if unknown or not value:
            raise ValueError(f"must list algorithms from {', '.join(SYMMETRIC + ASYMMETRIC)}")
        return value

    @model_validator(mode="after")
    def _keys_present(self) -> Settings:
        if any(a in SYMMETRIC for a in self.jwt_algorithms) and (
            self.jwt_secret is None or len(self.jwt_secret.get_secret_value()) < 32
        ):
            raise ValueError(
                "BILLING_JWT_SECRET must be set (at least 32 characters) for "
                f"{'/'.join(a for a in self.jwt_algorithms if a in SYMMETRIC)}; "
                "`make .env` writes a development one"
            )
        if any(a in ASYMMETRIC for a in self.jwt_algorithms) and not self.jwt_public_key:
            raise ValueError("BILLING_JWT_PUBLIC_KEY (PEM) must be set for asymmetric algorithms")
        return self


def load_settings(**overrides: object) -> Settings:
    """Settings, or ConfigError with one line per bad value naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"])
            name = "DATABASE_URL" if where.lower() == "database_url" else f"BILLING_{where.upper()}"
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message}" if where else message)
        raise ConfigError("; ".join(problems)) from None
