"""`billing dev-env`: the development `.env` (a JWT secret and a license signing key), written
owner-readable only, since the secret mints tokens for any role."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from api.licenses import generate_keys

DEV_KID = "dev"


def write_dev_env(env_file: Path, keys_dir: Path) -> str:
    """Write `env_file` (mode 600) with a new BILLING_JWT_SECRET and a signing key in
    `keys_dir` (made if missing), unless it exists; an existing one readable by others is
    made owner-only. Returns what was done, for the user."""
    if env_file.exists():
        if env_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            env_file.chmod(0o600)
            return f"{env_file} exists; made it readable by its owner only"
        return f"{env_file} exists; left as it is"
    private = keys_dir / f"{DEV_KID}.pem"
    if not private.exists():
        generate_keys(keys_dir, DEV_KID)
    text = (
        f"BILLING_JWT_SECRET={secrets.token_urlsafe(48)}\nBILLING_LICENSE_SIGNING_KEY={private}\n"
    )
    partial = env_file.with_name(env_file.name + ".tmp")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    partial.replace(env_file)  # never a half-written .env
    return f"wrote {env_file} (a development JWT secret and license key {private})"
