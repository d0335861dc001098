"""`whyrec chat`: a terminal conversation about one recommendation, rendered with rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from whyrec.agent.chat import Chat, ChatSession
from whyrec.errors import WhyrecError
from whyrec.render import render_chat_answer

HELP = """Ask in your own words: "why?", "what about the design?", "what do people dislike?", "compare it with ITEM",
"I don't care about price" (remembered for your next chats too), "not relevant", "tell me more". Commands:
  /sources   the evidence behind the last answer
  /item ID   talk about another item
  /help      this text
  /quit      leave (Ctrl-D works too)"""
PROMPT = "[bold cyan]you>[/bold cyan] "


def run_repl(chat: Chat, session: ChatSession, console: Console) -> None:
    """Read a line, answer it, until /quit or end of input. A bad line gets a message, never ends the session."""
    titles = chat.store.titles()
    console.print(
        f"Chatting with user [bold]{escape(session.user_id)}[/bold] about "
        f"[bold]{escape(titles[session.item_id])}[/bold] ({escape(session.item_id)}). /help for commands."
    )
    while True:
        try:
            line = console.input(PROMPT).strip()
        except EOFError:
            console.print()
            return
        except KeyboardInterrupt:  # Ctrl-C at the prompt clears the line, as in a shell
            console.print("\n(/quit or Ctrl-D leaves)")
            continue
        if not line:
            continue
        command, _, argument = line.partition(" ")
        if command in ("/quit", "/exit", "/q"):
            return
        try:
            if command == "/help":
                console.print(HELP, markup=False)
            elif command == "/item":
                if not argument.strip():
                    raise WhyrecError("/item needs an item id, e.g. /item B00PG8502O")
                chat.switch(session, argument.strip())
                console.print(
                    f"Now talking about [bold]{escape(titles[session.item_id])}[/bold] ({escape(session.item_id)})."
                )
            elif command.startswith("/") and command != "/sources":
                raise WhyrecError(f"unknown command {command}; /help lists them")
            else:
                with console.status("thinking…"):
                    # each claim as soon as the checker accepts it, then the whole answer
                    answer = chat.ask(
                        session, line, on_claim=lambda claim, _: console.print(f"[dim]✓ {escape(claim.text)}[/dim]")
                    )
                console.print(render_chat_answer(answer, titles))
        except KeyboardInterrupt:  # Ctrl-C while thinking drops that answer; the session goes on
            console.print("[yellow]interrupted[/yellow]")
        except WhyrecError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
