"""Stage 5, answers: a loaded generation asked a question; hits fused, passages, excerpts, headlines, the check."""
