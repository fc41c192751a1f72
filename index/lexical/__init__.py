"""Stage 3a, lexical: BM25 (rank_bm25's scores) over postings in segments, and the top-k kernel."""
