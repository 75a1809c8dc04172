"""The unsubscribe pages every e-mail links to (``/v1/unsubscribe/{token}``).

``POST`` unsubscribes: it is what a mail client's one-click button sends (RFC 8058, body
``List-Unsubscribe=One-Click``) and what the confirm page's button submits. ``GET`` only
shows that page: a link scanner or a prefetch that follows the message's links must not
unsubscribe anyone. Both answer in the campaign's language (fr, en, es), with no script.
"""
from __future__ import annotations

import html

from chalice import Response

from chalicelib.core import mail_tokens
from chalicelib.domain import campaigns, fan_mail

PAGES = {
    "en": {"title": "Unsubscribe", "ask": "Stop the e-mails of {campaign}?", "button": "Unsubscribe",
           "done": "Done: you will get no more e-mails from {campaign}.",
           "invalid": "This unsubscribe link is not valid."},
    "fr": {"title": "Désabonnement", "ask": "Ne plus recevoir les e-mails de {campaign} ?",
           "button": "Me désabonner", "done": "C'est fait : vous ne recevrez plus d'e-mails de {campaign}.",
           "invalid": "Ce lien de désabonnement n'est pas valide."},
    "es": {"title": "Darse de baja", "ask": "¿Dejar de recibir los correos de {campaign}?",
           "button": "Darme de baja", "done": "Hecho: ya no recibirás correos de {campaign}.",
           "invalid": "Este enlace para darse de baja no es válido."},
}
HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'",
           "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def _page(status: int, language: str, title: str, body: str) -> Response:
    return Response(status_code=status, headers=dict[str, str | list[str]](HEADERS), body=(
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;'
        f'line-height:1.5">{body}</body></html>'))


def _context(token: str) -> tuple[str, dict[str, str], str] | None:
    named = mail_tokens.read_unsubscribe(token)
    if named is None:
        return None
    campaign = campaigns.find(named[0])
    language = campaign.locale if campaign is not None and campaign.locale in PAGES else "en"
    return language, PAGES[language], campaign.name if campaign is not None else ""


def _invalid() -> Response:
    return _page(400, "en", PAGES["en"]["title"], f"<p>{html.escape(PAGES['en']['invalid'])}</p>")


def confirm(token: str) -> Response:
    """``GET``: the question and a button that POSTs to this same address."""
    context = _context(token)
    if context is None:
        return _invalid()
    language, texts, name = context
    return _page(200, language, texts["title"],
                 f"<p>{html.escape(texts['ask'].format(campaign=name))}</p>"
                 '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
                 f'<button type="submit">{html.escape(texts["button"])}</button></form>')


def done(token: str) -> Response:
    """``POST``: unsubscribe, then say so."""
    context = _context(token)
    if context is None or not fan_mail.unsubscribe(token):
        return _invalid()
    language, texts, name = context
    return _page(200, language, texts["title"], f"<p>{html.escape(texts['done'].format(campaign=name))}</p>")
