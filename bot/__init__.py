"""The Telegram side: turns updates into index calls and answers into replies."""
