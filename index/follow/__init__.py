"""Following: standing questions matched against new articles; articles grouped into stories."""
