"""The e-mails Relais sends fans, built as MIME messages: a sign-in link (link recovery) and
a reward unlocked.

Each message has a plain-text and an HTML part (``multipart/alternative``) in the
campaign's language (fr, en, es), the campaign's name, the creator's ``from_name`` as the
sender's display name (the address is the platform's verified sender identity) and the
creator's ``reply_to``, and a one-click unsubscribe (``List-Unsubscribe`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, RFC 8058). No image, no tracking
pixel, no tracked link: the only links are the action's and the unsubscribe's.

**No header injection.** Names come from creators and fans. Addresses are
:class:`email.headerregistry.Address` objects (which refuse CR and LF), and every text put
in a header is cleaned first (:func:`header_text`): control and line-separator characters
become spaces, and ``=?`` is broken, because the standard library decodes an RFC 2047
encoded word in a display name *before* writing it (``=?utf-8?q?a=0D=0ABcc:…?=`` would
otherwise come out as a line break and a header of its own). The message is then written
under a strict policy and read back (:func:`to_bytes`): a header set other than the one
built is refused.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid

from chalicelib.core.clock import utc_now

STRICT = policy.SMTP.clone(raise_on_defect=True, max_line_length=78)
"""CRLF line ends, lines folded at 78, and any defect an error rather than a guess."""
LANGUAGES = ("en", "fr", "es")
HEADER_TEXT_LENGTH = 120
ONE_CLICK = "List-Unsubscribe=One-Click"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "signin.subject": "Your link for {campaign}",
        "signin.intro": "Someone (hopefully you) asked for your referral link for {campaign}.",
        "signin.action": "Open my link",
        "signin.outro": "This sign-in link works once, within 30 minutes. If you did not ask for it, "
                        "ignore this message: nothing changes.",
        "reward.subject": "You unlocked a reward: {reward}",
        "reward.intro": "Thanks to the people you brought to {campaign}, you unlocked: {reward}.",
        "reward.action": "See the campaign",
        "reward.outro": "The campaign's creator will tell you how you receive it.",
        "footer": "You get this message because you joined {campaign}'s referral programme.",
        "unsubscribe": "Unsubscribe from these e-mails",
    },
    "fr": {
        "signin.subject": "Votre lien pour {campaign}",
        "signin.intro": "Quelqu'un (vous, espérons-le) a demandé votre lien de parrainage pour {campaign}.",
        "signin.action": "Ouvrir mon lien",
        "signin.outro": "Ce lien de connexion ne sert qu'une fois, dans les 30 minutes. Si vous ne l'avez pas "
                        "demandé, ignorez ce message : rien ne change.",
        "reward.subject": "Vous avez débloqué une récompense : {reward}",
        "reward.intro": "Grâce aux personnes que vous avez amenées à {campaign}, vous avez débloqué : {reward}.",
        "reward.action": "Voir la campagne",
        "reward.outro": "Le créateur de la campagne vous dira comment la recevoir.",
        "footer": "Vous recevez ce message parce que vous participez au parrainage de {campaign}.",
        "unsubscribe": "Ne plus recevoir ces e-mails",
    },
    "es": {
        "signin.subject": "Tu enlace para {campaign}",
        "signin.intro": "Alguien (esperamos que tú) ha pedido tu enlace de referido para {campaign}.",
        "signin.action": "Abrir mi enlace",
        "signin.outro": "Este enlace de acceso sirve una sola vez, durante 30 minutos. Si no lo has pedido, "
                        "ignora este mensaje: nada cambia.",
        "reward.subject": "Has desbloqueado una recompensa: {reward}",
        "reward.intro": "Gracias a las personas que has traído a {campaign}, has desbloqueado: {reward}.",
        "reward.action": "Ver la campaña",
        "reward.outro": "El creador de la campaña te dirá cómo recibirla.",
        "footer": "Recibes este mensaje porque participas en el programa de referidos de {campaign}.",
        "unsubscribe": "Darse de baja de estos correos",
    },
}
KINDS = ("signin", "reward")

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Mail:
    """What one message says and to whom: ``kind`` is ``signin`` or ``reward``; ``action_url``
    is the sign-in link or the campaign page; ``reward`` the reward's label (``reward`` only)."""

    kind: str
    locale: str
    campaign_name: str
    sender: str
    to: str
    action_url: str
    unsubscribe_url: str
    from_name: str | None = None
    reply_to: str | None = None
    reward: str | None = None


def header_text(raw: str, limit: int = HEADER_TEXT_LENGTH) -> str:
    """``raw`` safe in a header: one line (control, format and separator characters are
    spaces), no RFC 2047 encoded word (``=?`` is broken up), at most ``limit`` characters."""
    cleaned = "".join(" " if unicodedata.category(char)[0] in "CZ" and char != " " else char for char in raw)
    cleaned = _SPACES.sub(" ", cleaned).strip().replace("=?", "= ?").replace("?=", "? =")
    return cleaned[:limit].strip()


def _address(addr_spec: str, display_name: str = "") -> Address:
    """An address; ValueError for one that is not ``local@domain`` or holds CR/LF or spaces."""
    if any(char.isspace() or unicodedata.category(char)[0] == "C" for char in addr_spec) or addr_spec.count("@") != 1:
        raise ValueError(f"not an e-mail address: {addr_spec!r}")
    return Address(display_name=header_text(display_name), addr_spec=addr_spec)


def _texts(mail: Mail) -> dict[str, str]:
    table = TEXTS[mail.locale if mail.locale in TEXTS else "en"]
    values = {"campaign": header_text(mail.campaign_name), "reward": header_text(mail.reward or "")}
    return {key: value.format(**values) for key, value in table.items()}


def _plain(mail: Mail, texts: dict[str, str]) -> str:
    kind = mail.kind
    return "\n".join([
        texts[f"{kind}.intro"], "", f"{texts[f'{kind}.action']}: {mail.action_url}", "", texts[f"{kind}.outro"],
        "", "-- ", texts["footer"], f"{texts['unsubscribe']}: {mail.unsubscribe_url}", ""])


def _html(mail: Mail, texts: dict[str, str]) -> str:
    kind = mail.kind
    e = html.escape
    button = ("display:inline-block;padding:12px 20px;background:#1d4ed8;color:#ffffff;"
              "text-decoration:none;border-radius:6px;font-weight:600")
    return (
        f'<!DOCTYPE html>\n<html lang="{e(mail.locale)}"><head><meta charset="utf-8">'
        f"<title>{e(texts[f'{kind}.subject'])}</title></head>\n"
        '<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111827;max-width:560px;margin:0 auto;'
        'padding:24px">\n'
        f"<p>{e(texts[f'{kind}.intro'])}</p>\n"
        f'<p><a href="{e(mail.action_url)}" style="{button}">{e(texts[f"{kind}.action"])}</a></p>\n'
        f"<p>{e(texts[f'{kind}.outro'])}</p>\n"
        '<hr style="border:none;border-top:1px solid #e5e7eb">\n'
        f'<p style="font-size:13px;color:#4b5563">{e(texts["footer"])}<br>'
        f'<a href="{e(mail.unsubscribe_url)}" style="color:#4b5563">{e(texts["unsubscribe"])}</a></p>\n'
        "</body></html>\n")


def build(mail: Mail) -> EmailMessage:
    """The message ``mail`` describes (ValueError for an unknown kind or a bad address)."""
    if mail.kind not in KINDS:
        raise ValueError(f"unknown kind of e-mail: {mail.kind!r}")
    texts = _texts(mail)
    sender = _address(mail.sender, mail.from_name or mail.campaign_name)
    message = EmailMessage(policy=STRICT)
    message["From"] = sender
    message["To"] = _address(mail.to)
    if mail.reply_to:
        message["Reply-To"] = _address(mail.reply_to)
    message["Subject"] = header_text(texts[f"{mail.kind}.subject"], 200)
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{_url(mail.unsubscribe_url)}>"
    message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(_plain(mail, texts))
    message.add_alternative(_html(mail, texts), subtype="html")
    message["Content-Language"] = mail.locale if mail.locale in TEXTS else "en"  # set_content drops Content-*
    return message


def _url(url: str) -> str:
    if not url.startswith(("https://", "http://")) or any(ord(char) <= 32 or char in "<>\"" for char in url):
        raise ValueError(f"not a URL for a header: {url!r}")
    return url


HEADERS = {"from", "to", "reply-to", "subject", "date", "message-id", "content-language", "auto-submitted",
           "list-unsubscribe", "list-unsubscribe-post", "content-type", "mime-version"}
"""Every header a message may have: reading one back that has another means something was injected."""


def to_bytes(message: EmailMessage) -> bytes:
    """The message as sent (CRLF), read back to check that its headers are the ones built."""
    raw = message.as_bytes(policy=STRICT)
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    names = [name.lower() for name in parsed]
    built = [name.lower() for name in message]
    if sorted(names) != sorted(built) or not set(names) <= HEADERS:
        raise ValueError(f"refusing a message whose headers changed when written: {sorted(set(names) - set(built))}")
    return raw
