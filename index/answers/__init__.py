"""Stage 5, answers: a generation asked a question; hits fused into passages and excerpts."""
