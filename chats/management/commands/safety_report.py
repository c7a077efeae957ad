"""Prints how the safety classifier does on its labelled messages."""

from django.core.management.base import BaseCommand, CommandParser

from chats.safety.evaluation import FALSE_ALARM_TARGET, PARTS, RECALL_TARGET, PartReport, part_evaluate


def _percent(count: int, total: int) -> str:
    return f"{count:>4}/{total:<4} {count / total:>7.1%}" if total else f"{count:>4}/{total:<4}      -"


class Command(BaseCommand):
    help = (
        "Emergency recall (overall and per warning sign) and false-alarm rate of the safety classifier on "
        "each part of its labelled set."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--part", choices=PARTS, help="Report one part only (default: every part).")
        parser.add_argument(
            "--show-misses",
            action="store_true",
            help="Also list the tuning part's missed emergencies and false alarms. Held-out texts are never "
            "listed, so that nobody tunes the rules on them.",
        )

    def handle(self, *args, part: str | None, show_misses: bool, **options) -> None:
        for name in (part,) if part else PARTS:
            report = part_evaluate(part=name)
            self._report_write(report)
            if show_misses and name == "tuning":
                self._misses_write(report)
            elif show_misses:
                self.stdout.write("  (held-out texts are not listed; the counts above are all it reports)")

    def _report_write(self, report: PartReport) -> None:
        write = self.stdout.write
        total = report.emergencies + report.non_emergencies
        write(f"{report.part}: {total} messages")
        recall = _percent(report.emergencies_detected, report.emergencies)
        write(f"  {'emergency recall':<24}{recall}   target >= {RECALL_TARGET:.0%}")
        false_alarms = _percent(report.false_alarms, report.non_emergencies)
        write(f"  {'false alarms':<24}{false_alarms}   target <= {FALSE_ALARM_TARGET:.0%}")
        write(f"  {'primary category agrees':<24}{_percent(report.primary_agreements, total)}")
        write("  recall by sign")
        for sign in report.signs:
            write(f"    {sign.sign:<22}{_percent(sign.detected, sign.total)}")
        write("")

    def _misses_write(self, report: PartReport) -> None:
        write = self.stdout.write
        write("  missed emergencies (tuning)")
        for message in report.misses:
            write(f"    [{message.emergency_sign}] {message.text}")
        write("  false alarms (tuning)")
        for message in report.false_alarm_messages:
            write(f"    {message.text}")
        write("")
