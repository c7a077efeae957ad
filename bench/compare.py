"""Runs that alternate Nora and the baseline against one fake, so every SSE figure has a ratio."""

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench import harness
from bench.sse import EMPTY, Figures, Target

SERVERS = ("nora", "baseline")  # and "before", a second Nora tree, with --before
USER_PREFIX = "load"


@dataclass
class Provider:
    """The fake Anthropic's pace: the provider's own time, which 'added' leaves out."""

    first_token_ms: float = 100.0
    token_interval_ms: float = 20.0
    tokens: int = 40


@dataclass
class Session:
    """One server process under test, with what a load step needs to address it."""

    server: str
    process: harness.Process
    user_ids: list[str]
    tokens: list[str]

    @property
    def port(self) -> int:
        return int(self.process.url.rsplit(":", 1)[1])

    def target(self, *, streams_per_client: int, titled: bool = True) -> Target:
        conversations = [
            iter(harness.conversations_make(user_id=user_id, count=streams_per_client, titled=titled))
            for user_id in self.user_ids
        ]
        return Target(port=self.port, tokens=self.tokens, conversations=conversations)


@dataclass
class Results:
    figures: dict[tuple[str, object], Figures] = field(default_factory=dict)
    numbers: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, server: str, key: object, figures: Figures) -> None:
        self.figures[(server, key)] = self.figures.get((server, key), EMPTY).merge(figures)

    def get(self, server: str, key: object) -> Figures:
        return self.figures.get((server, key), EMPTY)

    def note(self, server: str, name: str, value: float) -> None:
        self.numbers.setdefault((server, name), []).append(value)

    def noted(self, server: str, name: str) -> list[float]:
        return self.numbers.get((server, name), [])


def alternate(
    args, *, provider: Provider, clients: int, step: Callable[[Session, Results], None], servers=SERVERS,
    on_fake: Callable[[dict], None] | None = None,
) -> Results:
    """`args.runs` rounds; in each, a fresh process of every server runs `step` in turn."""
    harness.setup(args)
    if args.smoke:
        # Short replies: the smoke run checks the machinery, not the figures.
        provider = Provider(first_token_ms=10.0, token_interval_ms=min(provider.token_interval_ms, 20.0), tokens=min(provider.tokens, 20))
    harness.load_data_forget(prefix=USER_PREFIX)
    user_ids = harness.users_make(prefix=USER_PREFIX, count=clients)
    tokens = [harness.access_token(user_id) for user_id in user_ids]
    results = Results()
    fake = harness.fake_anthropic_start(
        first_token_ms=provider.first_token_ms, token_interval_ms=provider.token_interval_ms, tokens=provider.tokens
    )
    if on_fake is not None:
        on_fake({"url": fake.url})
    with harness.running(fake):
        for run, server in itertools.product(range(args.runs), servers):
            session = Session(server, server_start(server, args=args, anthropic_url=fake.url), user_ids, tokens)
            try:
                with harness.maybe_profiled(args, session.process, first=run == 0):
                    step(session, results)
            finally:
                session.process.stop()
    harness.load_data_forget(prefix=USER_PREFIX)
    return results


def server_start(server: str, *, args, anthropic_url: str, deepgram_url: str = "") -> harness.Process:
    if server == "baseline":
        return harness.baseline_start(anthropic_url=anthropic_url)
    tree = args.before if server == "before" else args.tree
    env = harness.nora_env(
        tree=tree, anthropic_url=anthropic_url, deepgram_url=deepgram_url, extra=harness.extra_env(args.env)
    )
    return harness.nora_start(tree=tree, env=env, name=server)


def warm_up(session: Session, *, clients: int, streams: int, smoke: bool = False) -> None:
    """Streams nobody measures: imports, pools and caches are warm before the clock starts."""
    from bench.sse import closed_loop

    if smoke:
        clients, streams = 1, 1
    target = session.target(streams_per_client=streams + 2)
    asyncio.run(closed_loop(target, clients=clients, seconds=30, max_streams=clients * streams))
    if not smoke:
        harness.settle(session.process)


def ratio(nora: float, baseline: float) -> float:
    return nora / baseline if baseline and baseline == baseline else float("nan")


def wall() -> float:
    return time.monotonic()
