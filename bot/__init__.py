"""The Telegram side: turns updates into index calls and answers into replies."""

import os

# Opt in to python-telegram-bot's timedelta durations now: without it, PTB 22 warns about its
# own `RetryAfter` on every 429 (flood control), which is exactly when logs must stay readable.
os.environ.setdefault("PTB_TIMEDELTA", "1")
