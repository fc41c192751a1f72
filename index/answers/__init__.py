"""Stage 5, answers: a generation asked a question; the policy, fusion, passages, the check."""
