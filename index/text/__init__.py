"""Stage 2, text: articles into sentences, sentences and questions into analyzed terms, names, times and sign-offs."""
