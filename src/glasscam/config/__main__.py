"""``python -m glasscam.config FILE [FILE ...]``: check config files (see :func:`glasscam.config.main`)."""

from glasscam.config import main

raise SystemExit(main())
