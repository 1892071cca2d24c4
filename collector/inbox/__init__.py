"""``collector inbox serve``: the support team's side of ``collector submit``.

Data flows one way, a module per job:
``intake`` (an upload or a watched file -> the hostile-input bundle reader -> stored, or
refused with nothing written) -> ``store`` (SQLite: reports, issues grouped by the
failing fingerprints the report carries) -> ``web`` (Starlette pages and the upload API)
-> ``replays`` (a background worker with a bounded queue running ``collector replay``).
``watch`` polls a folder and hands complete files to ``intake``.
"""
