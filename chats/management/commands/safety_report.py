"""Prints how the safety classifier does on its labelled messages."""

from django.core.management.base import BaseCommand, CommandParser

from chats.safety.classifier import HAND_WRITTEN_LAYERS, LAYERS, Classification, message_classify
from chats.safety.evaluation import (
    FALSE_ALARM_TARGET,
    PARTS,
    RECALL_TARGET,
    CorpusReport,
    PartReport,
    Rates,
    Tally,
    corpus_evaluate,
    part_evaluate,
)

HELD_OUT_NOT_LISTED = "  (held-out texts are not listed; the counts above are all it reports)"
TRAINED_ON = "  (the statistical layer learnt the tuning parts, so its figures on them are not a test)"


def _percent(count: int, total: int) -> str:
    return f"{count:>4}/{total:<4} {count / total:>7.1%}" if total else f"{count:>4}/{total:<4}      -"


def _hand_written(text: str) -> Classification:
    return message_classify(text=text, layers=HAND_WRITTEN_LAYERS)


class Command(BaseCommand):
    help = (
        "Emergency recall and false-alarm rate of the safety classifier on each part of its labelled sets: "
        "the authored set (per warning sign) and the independent corpus (per sign, language, style, who wrote "
        "it and batch; false alarms per kind of near miss)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--part", choices=PARTS, help="Report one part only (default: every part).")
        parser.add_argument(
            "--show-misses",
            action="store_true",
            help="Also list the tuning parts' missed emergencies and false alarms of the hand-written layers (the "
            "statistical layer learnt those parts). Held-out texts are never listed, so that nobody tunes the "
            "rules on them.",
        )

    def handle(self, *args, part: str | None, show_misses: bool, **options) -> None:
        parts = (part,) if part else PARTS
        for name in parts:
            report = part_evaluate(part=name)
            self._authored_write(report)
            if show_misses:
                report = part_evaluate(part=name, classify=_hand_written) if name == "tuning" else report
                self._misses_write(
                    name,
                    [f"[{m.emergency_sign}] {m.text}" for m in report.misses],
                    [m.text for m in report.false_alarm_messages],
                )
        for name in parts:
            report = corpus_evaluate(part=name)
            self._corpus_write(report)
            self._layers_write(name)
            if show_misses:
                report = corpus_evaluate(part=name, classify=_hand_written) if name == "tuning" else report
                self._misses_write(
                    name,
                    [f"[{m.sign} {m.language} {m.style}] {m.text}" for m in report.misses],
                    [f"[{m.kind} {m.language} {m.style}] {m.text}" for m in report.false_alarm_messages],
                )

    def _headline_write(self, title: str, report: Rates, *, trained_on: bool) -> None:
        write = self.stdout.write
        detected, others = _percent(report.emergencies_detected, report.emergencies), report.non_emergencies
        write(f"{title}: {report.emergencies + others} messages")
        if trained_on:
            write(TRAINED_ON)
        write(f"  {'emergency recall':<24}{detected}   target >= {RECALL_TARGET:.0%}")
        write(f"  {'false alarms':<24}{_percent(report.false_alarms, others)}   target <= {FALSE_ALARM_TARGET:.0%}")

    def _tallies_write(self, heading: str, tallies: tuple[Tally, ...]) -> None:
        self.stdout.write(f"  {heading}")
        for tally in tallies:
            self.stdout.write(f"    {tally.label:<22}{_percent(tally.hits, tally.total)}")

    def _authored_write(self, report: PartReport) -> None:
        total = report.emergencies + report.non_emergencies
        self._headline_write(f"authored {report.part}", report, trained_on=report.part == "tuning")
        self.stdout.write(f"  {'primary category agrees':<24}{_percent(report.primary_agreements, total)}")
        self._tallies_write("recall by sign", report.signs)
        self.stdout.write("")

    def _corpus_write(self, report: CorpusReport) -> None:
        self._headline_write(f"independent {report.part}", report, trained_on=report.part == "tuning")
        for tag, tallies in report.recall_by.items():
            self._tallies_write(f"recall by {tag}", tallies)
        for tag, tallies in report.false_alarms_by.items():
            self._tallies_write(f"false alarms by {tag}", tallies)
        self.stdout.write("")

    def _layers_write(self, part: str) -> None:
        """Each layer of the triage alone, on the same part, beside all of them together."""
        self.stdout.write(f"  independent {part}, each layer alone")
        for layer in LAYERS:
            alone = corpus_evaluate(
                part=part, classify=lambda text, layer=layer: message_classify(text=text, layers=(layer,))
            )
            recall = _percent(alone.emergencies_detected, alone.emergencies)
            false_alarms = _percent(alone.false_alarms, alone.non_emergencies)
            self.stdout.write(f"    {layer:<22}recall {recall}   false alarms {false_alarms}")
        self.stdout.write("")

    def _misses_write(self, part: str, misses: list[str], false_alarms: list[str]) -> None:
        write = self.stdout.write
        if part != "tuning":
            write(HELD_OUT_NOT_LISTED)
            write("")
            return
        write("  missed emergencies (tuning)")
        for line in misses:
            write(f"    {line}")
        write("  false alarms (tuning)")
        for line in false_alarms:
            write(f"    {line}")
        write("")
