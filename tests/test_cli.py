"""The `newsbot` command line: the public contract other programs drive."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT, SEED_QUESTION, SEED_SENTENCE, SEEDS

ANSWER_KEYS = {"sentence", "passage", "score", "bm25", "similarity", "article", "also"}
ARTICLE_KEYS = {"id", "title", "source", "date", "url", "path", "first_seen"}


def test_ask_builds_the_index_first_and_answers_from_the_seed(
    index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", SEED_QUESTION]) == 0
    out, err = capsys.readouterr()
    assert "$228.1 billion in 2025" in out
    assert "Xi Jinping's Diplomatic Calls" in out
    assert "building it from" in err
    assert (index_env / "CURRENT").is_file()


def test_ask_json_contract(index_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "-k", "2", SEED_QUESTION]) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["question"] == SEED_QUESTION
    assert 1 <= len(payload["answers"]) <= 2
    best = payload["answers"][0]
    assert set(best) == ANSWER_KEYS
    assert set(best["article"]) == ARTICLE_KEYS
    assert best["sentence"] == SEED_SENTENCE
    assert SEED_SENTENCE in best["passage"]
    assert isinstance(best["score"], float) and best["score"] > 0


def test_ask_reads_questions_from_stdin_in_order(
    index_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = [SEED_QUESTION, "zebra xylophone quasar", "What did Putin promise China?"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(questions) + "\n\n"))
    assert main(["ask", "-", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [p["question"] for p in lines] == questions
    assert lines[0]["answers"] and lines[2]["answers"]
    assert lines[1]["answers"] == []


def test_nothing_relevant_is_said_plainly(
    index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "Who won the cricket world cup?"]) == 0
    assert "Nothing relevant found" in capsys.readouterr().out


WEAK_QUESTION = "Does Taiwan export bananas?"  # only "Taiwan" matches, and loosely


def test_weak_matches_are_hinted_at_and_shown_on_request(
    index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", WEAK_QUESTION]) == 0
    out = capsys.readouterr().out
    assert "Nothing relevant found" in out
    assert "add --min-coverage 0.2 to see them" in out
    assert main(["ask", "--json", "--min-coverage", "0.2", WEAK_QUESTION]) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["answers"][0]["sentence"].startswith("Taiwan was also reiterated")


def test_no_hint_when_not_even_a_weak_match_exists(
    index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "zebra quasar xylophone"]) == 0
    assert "--min-coverage" not in capsys.readouterr().out


def test_index_summary_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index_dir, sources = tmp_path / "idx", tmp_path / "news"
    shutil.copytree(SEEDS, sources)
    assert main(["index", str(SEEDS), "--index-dir", str(index_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["articles"] == 1
    assert report["sentences"] > 10
    assert report["skipped"] == []
    assert report["committed"] is True and report["refused"] is None
    (sources / "other.txt").write_text("Ports\nThe port of Ostend closed on Monday.\n")
    assert main(["index", str(sources / "other.txt"), "--index-dir", str(index_dir)]) == 0
    assert capsys.readouterr().out.startswith("Indexed 2 articles, ")
    # Nothing changed (the sources the index remembers read again): no new generation, so a
    # bot does not swap, and exit 0.
    generation = (index_dir / "CURRENT").read_text()
    assert main(["index", "--index-dir", str(index_dir)]) == 0
    assert capsys.readouterr().out.startswith("Nothing changed (2 articles)")
    assert main(["index", "--index-dir", str(index_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["committed"], report["refused"], report["articles"]) == (False, None, 2)
    assert (index_dir / "CURRENT").read_text() == generation


def test_index_appends_what_changed_and_full_rebuilds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file deleted removes its article: half of this index, allowed here.
    monkeypatch.setenv("NEWSBOT_MAX_REMOVAL", "50%")
    sources, index_dir = tmp_path / "news", tmp_path / "idx"
    shutil.copytree(SEEDS, sources)
    command = ["index", str(sources), "--index-dir", str(index_dir), "--json"]

    def indexed(*extra: str) -> dict[str, object]:
        assert main([*command, *extra]) == 0
        report: dict[str, object] = json.loads(capsys.readouterr().out)
        return report

    first = indexed()
    assert (first["full"], first["added"], first["segments"]) == (True, 1, 1)
    (sources / "flood.txt").write_text(
        "Floods close the river port\nThe river port of Ostend closed on Monday after floods.\n"
    )
    appended = indexed()
    assert (appended["full"], appended["added"], appended["removed"]) == (False, 1, 0)
    assert (appended["articles"], appended["segments"]) == (2, 2)
    assert main(["ask", "--index-dir", str(index_dir), "--json", "Which port closed?"]) == 0
    (answer, *_) = json.loads(capsys.readouterr().out)["answers"]
    assert "Ostend" in answer["sentence"]
    (sources / "flood.txt").unlink()
    removed = indexed()
    assert (removed["added"], removed["removed"], removed["articles"]) == (0, 1, 1)
    assert main(["ask", "--index-dir", str(index_dir), "--json", "Which port closed?"]) == 0
    assert "Ostend" not in capsys.readouterr().out
    rebuilt = indexed("--full")
    assert (rebuilt["full"], rebuilt["articles"], rebuilt["segments"]) == (True, 1, 1)


def test_broken_file_is_skipped_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good.txt").write_text("A title\nThe council approved the budget on Monday.\n")
    (tmp_path / "bad.jsonl").write_text('{"title": "ok", "text": "Fine body here."}\n{broken\n')
    assert main(["index", str(tmp_path), "--index-dir", str(tmp_path / "idx"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["articles"] == 2
    assert [(Path(s["where"]).name, s["line"]) for s in report["skipped"]] == [("bad.jsonl", 2)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["index", "/no/such/source"], "source not found: /no/such/source"),
        (["ask", "--index-dir", "/no/such/dir", "q"], "index folder not found"),
        (["ask", "-k", "zero", "q"], "expected a whole number"),
        (["ask", "--bogus", "q"], "unrecognized arguments: --bogus"),
        (["ask", "--min-coverage", "-0.1", "q"], "expected a number of at least 0"),
        (["ask", "--min-coverage", "nan", "q"], "expected a number of at least 0"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_incompatible_index_is_refused_with_reindex_hint(
    index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index"]) == 0
    generation = index_env / (index_env / "CURRENT").read_text().strip()
    header = json.loads((generation / "index.json").read_text())
    header["format_version"] = 0
    (generation / "index.json").write_text(json.dumps(header))
    capsys.readouterr()
    assert main(["ask", SEED_QUESTION]) == 2
    assert "run `newsbot index` to rebuild it" in capsys.readouterr().err
    # As the hint says: with nothing it can append to, `newsbot index` rebuilds in full.
    assert main(["index", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["full"] is True
    assert main(["ask", SEED_QUESTION]) == 0


@pytest.mark.process
def test_console_script_runs_as_a_process(index_env: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", SEED_QUESTION],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answers"][0]["sentence"] == SEED_SENTENCE


@pytest.mark.process
@pytest.mark.slow
def test_a_reader_that_leaves_early_gets_no_traceback(seed_index: Path, tmp_path: Path) -> None:
    """`newsbot ask - | head -1`: the rest of the output has nowhere to go, quietly."""
    questions = tmp_path / "questions.txt"
    questions.write_text((SEED_QUESTION + "\n") * 400)  # answers far beyond a pipe's 64 KiB
    command = [sys.executable, "-m", "bot.cli", "ask", "-", "--lexical-only"]
    with questions.open("rb") as stdin:
        asker = subprocess.Popen(
            [*command, "--index-dir", str(seed_index)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        assert asker.stdout is not None and asker.stderr is not None
        assert asker.stdout.readline().startswith(b"? ")
        asker.stdout.close()
        assert asker.wait(timeout=120) == 141
        assert b"Traceback" not in asker.stderr.read()
        asker.stderr.close()


def test_every_command_and_flag_is_in_the_readme() -> None:
    from bot.cli import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    usage = readme.split("## Using the command line", 1)[1].split("```", 2)[1]
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"index", "ask", "run", "check"} <= set(commands)
    for name, command in commands.items():
        line = next(line for line in usage.splitlines() if line.startswith(f"newsbot {name} "))
        flags = {
            option
            for action in command._actions
            for option in action.option_strings
            if option.startswith("--") and option != "--help"
        }
        assert {flag for flag in flags if flag not in line} == set(), name
