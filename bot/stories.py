"""A story shown once: answers and /latest fold the copies of a story (`index.follow.stories`)."""

from __future__ import annotations

from bot.state import BotState
from index.model import Answer, Article


def fold_answers(
    state: BotState, answers: list[Answer]
) -> tuple[list[Answer], list[list[Article]]]:
    """Return the answers with each story once, and each kept answer's other copies.

    Without a state file (no story groups), the answers as they are, with no copies.
    """
    index = state.newsroom.index
    if state.alerts is None or index is None:
        return answers, [[] for _ in answers]
    folded = state.alerts.stories.fold(index, [a.article for a in answers])
    return [answers[p] for p, _ in folded], [copies for _, copies in folded]


def fold_articles(state: BotState, articles: list[Article]) -> list[Article]:
    """Return the articles with each story once (its first one in the list)."""
    index = state.newsroom.index
    if state.alerts is None or index is None:
        return articles
    return [articles[p] for p, _ in state.alerts.stories.fold(index, articles)]
