"""Stage 1, sources: what is read and from where (files, folders, feeds), fetched within bounds and spooled."""
