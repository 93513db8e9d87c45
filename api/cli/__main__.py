"""``python -m lineagelog.api.cli``: the same as the ``lineagelog`` command."""

from __future__ import annotations

from lineagelog.api.cli import main

if __name__ == "__main__":
    main()
