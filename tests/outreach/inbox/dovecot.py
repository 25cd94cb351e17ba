"""A throwaway Dovecot IMAP server on free loopback ports: generated config, Maildirs and a
self-signed certificate under a temporary folder (STARTTLS and IMAPS both); every user name logs in
with ``PASSWORD`` and gets its own Maildir.

Used by the inbox tests (a session fixture in conftest.py) and by bench/reply_inbox.py. Dovecot
comes from the system packages (``apt-get install dovecot-imapd``); ``dovecot_binary()`` is None
without it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
# Every user logs in with this one password (any user name is a fresh Maildir): users come and go
# with each test without the server re-reading a user file.
PASSWORD = "s3cret-pass"


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.path.exists(p)), None
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    # Fixed, wide validity: callers may run under a moved clock (time-machine) that OpenSSL ignores.
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Dovecot:
    folder: Path
    port: int  # STARTTLS
    ssl_port: int  # IMAPS
    ca_file: str
    process: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_dovecot() -> Dovecot:
    binary = dovecot_binary()
    if binary is None:
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
    folder = Path(tempfile.mkdtemp(prefix="aicmo-dovecot-"))
    folder.chmod(0o755)
    cert, key = _self_signed(folder)
    root = os.getuid() == 0
    # As root Dovecot drops to its own users; as anyone else every process runs as that user.
    me = pwd.getpwuid(os.getuid()).pw_name
    login_user, internal_user = ("dovenull", "dovecot") if root else (me, me)
    mail_uid = pwd.getpwnam("dovecot").pw_uid if root else os.getuid()
    mail_gid = pwd.getpwnam("dovecot").pw_gid if root else os.getgid()
    mail = folder / "mail"
    mail.mkdir()
    for sub in ("run", "state"):
        (folder / sub).mkdir()
    if root:
        os.chown(mail, mail_uid, mail_gid)
    server = Dovecot(folder=folder, port=_free_port(), ssl_port=_free_port(), ca_file=str(cert))
    config = f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = {HOST}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:{mail}/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {server.port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {server.ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 1000
}}
"""
    if not root:
        config += "service auth {\n  user = $default_internal_user\n}\n"
    conf = folder / "dovecot.conf"
    conf.write_text(config)
    server.process = subprocess.Popen(
        [binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            err = server.process.stderr.read().decode(errors="replace") if server.process.stderr else ""
            log = server.log()
            server.stop()
            raise RuntimeError(f"dovecot exited: {err}\n{log}")
        try:
            with socket.create_connection((HOST, server.port), timeout=0.5) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("dovecot did not answer within 15 s")
