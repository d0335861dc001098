"""`whyrec chat` in a real pseudo-terminal: what a person typing at it sees, with the extractive composer (no model)
over the demo index. Output is read with a timeout and compared without its colours and line wrapping."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DEMO_PAIRS

USER, ITEM = DEMO_PAIRS[0]  # Amazon.com Gift Card in a Greeting Card
OLIVE = DEMO_PAIRS[1][1]
WHYREC = Path(sys.executable).parent / "whyrec"
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\r")
PROMPT = re.compile(r"you> $")
STARTUP_SECONDS = 60  # a cold start imports torch and opens the index
TURN_SECONDS = 30


class Terminal:
    """A `whyrec chat` process on the far side of a pseudo-terminal: type a line, read until the next prompt."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.fd, child = os.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.process = subprocess.Popen(
            [str(WHYREC), *args], stdin=child, stdout=child, stderr=child, env=env, start_new_session=True
        )
        os.close(child)
        self.ended = False

    def read(self, until: re.Pattern[str] = PROMPT, timeout: float = TURN_SECONDS) -> str:
        """What the program printed, without colours or line breaks from wrapping, up to `until` or its end."""
        raw, deadline = b"", time.monotonic() + timeout
        while not until.search(plain(raw)) and not self.ended:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {until.pattern!r} within {timeout} s; got:\n{plain(raw)}")
            if select.select([self.fd], [], [], min(left, 0.5))[0]:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: the program has exited and closed its side
                    chunk = b""
                self.ended = not chunk
                raw += chunk
        return plain(raw)

    def type(self, line: str) -> str:
        os.write(self.fd, line.encode() + b"\n")
        return self.read()

    def end_of_input(self) -> int:
        os.write(self.fd, b"\x04")  # Ctrl-D at the start of a line
        return self.exit_code()

    def exit_code(self) -> int:
        self.read(until=re.compile(r"(?!)"))  # to the end of its output
        return self.process.wait(timeout=TURN_SECONDS)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.fd)


def plain(raw: bytes) -> str:
    return ANSI.sub("", raw.decode("utf-8", errors="replace"))


def flat(text: str) -> str:
    """The text with all runs of white space made one space, so that wrapped lines compare whole."""
    return " ".join(text.split())


@pytest.fixture
def terminal(demo_index_dir: Path, tmp_path: Path) -> Iterator[Terminal]:
    env = {
        **os.environ,
        "WHYREC_INDEX": str(demo_index_dir),
        "WHYREC_HOME": str(tmp_path / "home"),
        "TERM": "xterm-256color",
        "COLUMNS": "200",
        "LINES": "50",
    }
    env.pop("NO_COLOR", None)
    term = Terminal(["chat", "--user", USER, "--item", ITEM, "--composer", "extractive"], env)
    yield term
    term.close()


def test_the_greeting_names_the_user_and_the_item_and_quit_exits_0(terminal: Terminal) -> None:
    greeting = flat(terminal.read(timeout=STARTUP_SECONDS))
    assert f"Chatting with user {USER} about Amazon.com Gift Card in a Greeting Card ({ITEM})" in greeting
    terminal.type("/quit")  # no prompt follows: read runs to the end of output
    assert terminal.exit_code() == 0


def test_why_prints_a_reason_with_markers_and_footnotes_and_sources_lists_its_units(terminal: Terminal) -> None:
    terminal.read(timeout=STARTUP_SECONDS)
    why = flat(terminal.type("why?"))
    assert "Amazon.com Gift Card in a Greeting Card costs $500.00.[1][2]" in why
    assert "[1] Amazon.com Gift Card in a Greeting Card seller · B005DHN6E2:spec:title" in why
    assert "[2] Price: $500.00 seller · B005DHN6E2:spec:price" in why
    assert re.search(r"checked: (\d) of \1 drafted claims supported", why)
    footnotes = re.findall(r"\[(\d+)\] [^\[]*? · (\S+:\S+)", why)
    sources = flat(terminal.type("/sources"))
    assert f"The last answer rests on {len(footnotes)} evidence units." in sources
    listed = re.findall(r"(\d+)\. [^·]*? · (\S+) · ", sources)  # then file:line, or what whyrec counted
    assert listed == footnotes  # source n is the reason's [n]
    assert terminal.end_of_input() == 0


def test_a_bad_item_prints_an_error_and_the_session_goes_on_to_another_item(terminal: Terminal) -> None:
    terminal.read(timeout=STARTUP_SECONDS)
    assert "error: unknown item 'NOPE'" in terminal.type("/item NOPE")
    assert "error: unknown command /frobnicate; /help lists them" in terminal.type("/frobnicate")
    assert f"Now talking about Olive Garden Gift Card ({OLIVE})." in terminal.type(f"/item {OLIVE}")
    why = flat(terminal.type("why?"))
    assert "Olive Garden Gift Card costs $50.00." in why and f"{OLIVE}:spec:price" in why
    terminal.type("/quit")
    assert terminal.exit_code() == 0


def test_help_lists_the_commands_and_end_of_input_exits_0(terminal: Terminal) -> None:
    terminal.read(timeout=STARTUP_SECONDS)
    shown = terminal.type("/help")
    for command in ("/sources", "/item ID", "/help", "/quit"):
        assert command in shown
    assert terminal.end_of_input() == 0
