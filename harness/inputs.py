"""Hostile inputs that more than one tier throws at Relais."""

# Campaign target URLs that must be refused (400 invalid_target_url): in-process and over HTTP.
HOSTILE_TARGET_URLS = [
    "http://example.org/",                       # not https
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example.com/",                        # protocol-relative
    "https:evil.example.com",                     # no authority
    "https:/evil.example.com",
    "https:\\\\evil.example.com",
    "https://example.org\\@evil.example.com",     # backslash trick
    "https://user:pass@example.org/",             # user-info
    "https://example.org@evil.example.com/",
    "https://1.2.3.4/",                           # IP literal
    "https://[::1]/",
    "https://[2001:db8::1]/",
    "https://2130706433/",                        # decimal IP
    "https://0x7f000001/",                        # hex IP
    "https://0177.0.0.1/",                        # octal IP
    "https://localhost/",
    "https://intranet/",                          # no TLD
    "https://example.org/\x00",                   # control characters
    "https://example.org/\r\nLocation: https://evil.example.com",
    "https://exa mple.org/",
    "https://example.org:8443/",                  # non-standard port
    "https://ex%61mple.org/",                     # percent-encoded host
    "https://еxample.org/",                       # Cyrillic е (homograph)
    "https://example.org/" + "a" * 2100,          # overlong
    "ftp://example.org/",
    "",
    "   https://example.org/",
    "https://-example.org/",
    "https://example.local/",
]
