"""Stage 3b, semantic: the packaged sentence model, sentence vectors and their cosines."""
