"""collector: reproduce a user's steps in Chromium and write a support-ticket bundle."""

__version__ = "0.1.0"
