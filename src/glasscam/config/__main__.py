"""``python -m glasscam.config FILE [FILE ...]``: check config files (see :func:`glasscam.config.main`)."""

from glasscam.config import main

if __name__ == "__main__":
    raise SystemExit(main())
