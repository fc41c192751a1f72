"""Stage 1, sources: files, folders and feeds read, fetched within bounds, spooled."""
