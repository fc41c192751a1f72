"""Following stories: saved questions matched against new articles, and articles grouped into stories."""
