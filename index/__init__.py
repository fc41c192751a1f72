"""Ingestion, sentence splitting, analysis and the BM25 index; knows nothing of Telegram."""
