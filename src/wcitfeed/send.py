"""Handing a digest to a mail server: SMTP (smtplib) or the local sendmail.

The password never lives in wcitfeed.toml: it comes from ``$WCITFEED_SMTP_PASSWORD`` or
from the file ``smtp_password_file`` names. Any failure is one sentence, raised before the
caller records the digest as sent.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import ssl
import subprocess
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from wcitfeed.errors import EnvironmentProblem
from wcitfeed.model import Mail

PASSWORD_VARIABLE = "WCITFEED_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a secret
TIMEOUT = 60


class DeliveryFailed(EnvironmentProblem):
    """The mail server or sendmail did not take the digest."""


@dataclass(frozen=True)
class Delivered:
    """Where a digest went ('smtp.example.org:587'), and the recipients a server refused
    while taking it for the others (empty when it took it for all)."""

    where: str
    refused: str = ""


def deliver(message: EmailMessage, sender: str, recipients: list[str], mail: Mail) -> Delivered:
    """Send ``message`` to ``recipients`` (the envelope, whatever To: says)."""
    envelope_from = parseaddr(sender)[1]
    envelope_to = [parseaddr(r)[1] for r in recipients]
    if mail.smtp_host:
        return _smtp(message, envelope_from, envelope_to, mail)
    return _sendmail(message, envelope_from, envelope_to)


def _password(mail: Mail) -> str | None:
    if not mail.smtp_user:
        return None
    if os.environ.get(PASSWORD_VARIABLE):
        return os.environ[PASSWORD_VARIABLE]
    if mail.smtp_password_file is not None:
        try:
            return mail.smtp_password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DeliveryFailed(
                f"the SMTP password cannot be read ({exc.strerror})",
                path=mail.smtp_password_file,
            ) from None
    raise DeliveryFailed(
        f"smtp_user is set but no password is: set ${PASSWORD_VARIABLE}, or name a file "
        "holding it with smtp_password_file"
    )


def _smtp(message: EmailMessage, sender: str, recipients: list[str], mail: Mail) -> Delivered:
    host, port = mail.smtp_host or "", mail.smtp_port
    where = f"{host}:{port}"
    password = _password(mail)
    context = ssl.create_default_context()
    try:
        if mail.smtp_security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with server:
            if mail.smtp_security == "starttls":
                server.starttls(context=context)
            if mail.smtp_user and password is not None:
                server.login(mail.smtp_user, password)
            refused = server.send_message(message, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(
            f"{where} refused every recipient: {_reasons(exc.recipients)}"
        ) from None
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        raise DeliveryFailed(f"{where} refused the digest: {exc.smtp_code} {reply}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"cannot deliver through {where}: {exc}") from None
    # When some took it, the digest went out: the caller records it and names the rest.
    return Delivered(where, _reasons(refused) if refused else "")


def _reasons(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {text.decode('utf-8', 'replace')})"
        for address, (code, text) in sorted(refused.items())
    )


def _sendmail(message: EmailMessage, sender: str, recipients: list[str]) -> Delivered:
    program = shutil.which("sendmail") or "/usr/sbin/sendmail"
    if not Path(program).exists():
        raise DeliveryFailed(
            "no sendmail here and no smtp_host in the settings: set smtp_host (and smtp_user) "
            "in wcitfeed.toml, or install a mail transfer agent"
        )
    try:
        done = subprocess.run(
            [program, "-oi", "-f", sender, "--", *recipients],
            input=message.as_bytes(),
            capture_output=True,
            timeout=TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DeliveryFailed(f"sendmail failed: {exc}") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        raise DeliveryFailed(
            f"sendmail refused the digest (exit {done.returncode}): {said[0] if said else ''}"
        )
    return Delivered(program)
