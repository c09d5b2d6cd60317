"""E-mail delivery over SMTP (optional STARTTLS and login), HTML + plain-text bodies."""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from clausewatch.core.retry import is_retryable
from clausewatch.core.settings import Settings
from clausewatch.publication.names import clean_text
from clausewatch.publication.webhook import DeliveryFailed


def one_line(text: str, limit: int = 200) -> str:
    """Headers never carry line breaks (no header injection from titles)."""
    return clean_text(re.sub(r"\s+", " ", text)).strip()[:limit]


def build_email(settings: Settings, to: str, subject: str, text: str, html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = one_line(to, 320)
    msg["Subject"] = one_line(subject)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "clausewatch.localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def _send_once(settings: Settings, msg: EmailMessage, recipient: str) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as s:
        s.ehlo()
        if settings.smtp_starttls:
            s.starttls(context=ssl.create_default_context())
            s.ehlo()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            s.login(settings.smtp_username, password)
        s.send_message(msg, to_addrs=[recipient])


def send_email(settings: Settings, msg: EmailMessage, recipient: str) -> int:
    """Send ``msg`` to ``recipient`` alone (never to whatever its headers list); return the
    number of tries it took, or raise :class:`DeliveryFailed`."""
    if not settings.smtp_host:
        raise DeliveryFailed("SMTP is not configured (set CLAUSEWATCH_SMTP_HOST)", 0)
    tries = 0
    retrying = Retrying(
        stop=stop_after_attempt(max(1, settings.delivery_attempts)),
        wait=wait_exponential(
            multiplier=settings.delivery_backoff_s, min=settings.delivery_backoff_s, max=60
        ),
        retry=retry_if_exception(is_retryable),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                tries += 1
                _send_once(settings, msg, recipient)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"smtp {type(exc).__name__}: {exc}", tries) from exc
    return tries
