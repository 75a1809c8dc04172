"""Outbound webhooks: the events a batch announces, their queue, signing, SSRF-safe sending."""
