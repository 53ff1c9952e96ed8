"""A fake Sprinklr API server for the sprinklrfs tests and sandbox.

It serves the OAuth endpoints, the v2 API calls sprinklrfs makes and the v1
bootstrap call over HTTPS (or HTTP), with deterministic lazily generated
profiles, rate limits, expiring cursors and on-demand fault injection, plus a
control interface under /_fake/.  Run it with ``python3 -m fakesprinklr`` or
drive it from Python with :class:`fakesprinklr.launcher.Fake`.
"""
