"""Stage 2, text: sentences, analyzed terms; names, times and sign-offs in questions, articles."""
