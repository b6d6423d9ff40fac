"""``python manage.py demo``: real market data to a signed, verified submission packet.

Runs ``pipelines.services`` with the demo's configuration, draws a progress bar for each
long step, copies the PDF and the packet to ``--out`` and ends with a summary (``--json``: the same
as JSON on stdout, progress on stderr).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from governance.errors import ApplicationError
from governance.health import broker_status, database_status, tasks_inline, tasks_run_inline
from governance.roles import ALL_ROLES
from pipelines import services as pipeline

BAR_WIDTH = 28


class ProgressPrinter:
    """Step lines and a progress bar redrawn in place on a terminal (plain lines elsewhere)."""

    def __init__(self, stream, *, total: int) -> None:
        self.stream, self.total, self.index = stream, total, 0
        self.tty = stream.isatty()
        self.last_message = ""

    def __call__(self, event: pipeline.Event) -> None:
        if event.kind == "start":
            self.index += 1
            self.last_message = ""
            self.stream.write(f"[{self.index:2d}/{self.total}] {event.title}\n")
        elif event.kind == "progress":
            filled = round(event.fraction * BAR_WIDTH)
            bar = f"      [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {event.fraction:4.0%} {event.message}"
            if self.tty:
                self.stream.write("\r" + bar[:110].ljust(110))
            elif event.message != self.last_message:  # logs and pipes: one line per change, no redraws
                self.stream.write(bar + "\n")
            self.last_message = event.message
        else:
            if self.tty:
                self.stream.write("\r" + " " * 110 + "\r")
            self.stream.write(f"      done in {event.seconds:.1f} s: {event.message}\n")
        self.stream.flush()


class PipelineCommand(BaseCommand):
    """What ``demo`` and ``run_pipeline`` share: checks, running, copying the outputs, the summary."""

    def add_common_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="print the summary as JSON (progress on stderr)")
        parser.add_argument("--out", default=None, help="where the PDF and packet are copied (default var/demo/)")
        parser.add_argument("--timeout", type=float, default=3600.0,
                            help="seconds to wait for each run on the full stack (default 3600)")

    def check_platform(self) -> None:
        if database_status() != "ok":
            raise CommandError("the database is unreachable: check DATABASE_URL and run 'python manage.py migrate'")
        missing = [r for r in ALL_ROLES if not Group.objects.filter(name=r).exists()]
        if missing:
            raise CommandError(f"roles missing ({', '.join(missing)}): run 'python manage.py migrate'")
        if broker_status() == "error":
            raise CommandError(f"the Celery broker {settings.CELERY_BROKER_URL} does not answer: start Redis, or "
                               "unset CELERY_BROKER_URL to run tasks in-process")

    def out_dir(self, value: str | None) -> Path:
        out = Path(value) if value else Path(settings.VAR_DIR) / "demo"
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"--out {out}: {error.strerror}") from error
        if not os.access(out, os.W_OK):
            raise CommandError(f"--out {out}: not writable")
        return out.resolve()

    def execute_pipeline(self, config: pipeline.PipelineSettings, *, out: Path, as_json: bool) -> dict:
        # This command is the long work, not a web request: without a broker (CRUCIBLE_TASKS=local) its
        # tasks run here, in-process, rather than waiting for a worker that may not be running.
        tasks_run_inline()
        self.check_platform()
        stream = sys.stderr if as_json else self.stdout
        printer = ProgressPrinter(stream, total=len(pipeline.STEPS))
        try:
            summary = pipeline.run_pipeline(config, progress=printer)
        except ApplicationError as error:  # refused before anything was written
            raise CommandError(error.message) from error
        except pipeline.PipelineError as error:
            raise CommandError(str(error)) from error
        summary["outputs"] = copy_outputs(summary, out)
        summary["broker"] = broker_status()
        summary["tasks"] = "in-process" if tasks_inline() else "workers"
        return summary

    def emit(self, summary: dict, *, as_json: bool, title: str) -> None:
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2, default=str))
        else:
            self.stdout.write(render_summary(summary, title=title))


def copy_outputs(summary: dict, out: Path) -> dict:
    copied = {}
    model = summary.get("model", {}).get("model_id", "model")
    for key, suffix in (("report", ".pdf"), ("packet", ".zip")):
        entry = summary.get(key)
        if not entry or not entry.get("path"):
            continue
        version = entry.get("version") or summary.get("report", {}).get("version", "")
        target = out / f"{model}-v{version}-{'documentation' if key == 'report' else 'submission-packet'}{suffix}"
        shutil.copyfile(entry["path"], target)
        copied[key] = str(target)
    return copied


def _money(value) -> str:
    return "—" if value is None else f"{value:>12,.0f}"


def render_summary(s: dict, *, title: str) -> str:
    how = "tasks in-process" if s.get("tasks") == "in-process" else "tasks on the gpu/cpu workers"
    lines = ["", f"{title} — finished in {s['timings_s']['total']:.0f} s ({how})", ""]
    d, m = s["dataset"], s["model"]
    lines.append(f"Dataset     {d['name']} v{d['version']}: {', '.join(d['factors'])}, {d['rows']:,} days "
                 f"{d['start']} → {d['end']}, sha256 {d['sha256'][:16]}…")
    lines.append(f"Model       {m['model_id']} '{m['name']}', tier {m['tier']} "
                 f"(exposure USD {float(m['exposure_usd']):,.0f}, {m['materiality_purpose']})")
    for role, v in s["versions"].items():
        status = s["review"]["decisions"].get(role, {}).get("status", "draft")
        lines.append(f"  {role:<12} v{v['version']:<18} {v['engine']:<18} trained to {v['train_end']}, "
                     f"{v['training_s']:.0f} s → {status}")
    lines += ["", f"Validation against the holdout (full suite; the model's tier-{m['tier']} policy governs)",
              f"  {'version (holdout)':<46} {'tier 1':<7} {'tier 2':<7} {'tier 3':<7} suite tiers (governing policy)"]
    for role, v in s["validation"].items():
        per = v["outcome_per_policy_tier"]
        tiers = ", ".join(f"{k} {o}" for k, o in v["tier_outcomes"].items())
        label = f"{role} v{s['versions'][role]['version']} ({v['holdout'][0]} → {v['holdout'][1]})"
        lines.append(f"  {label:<46} {per['1']['outcome']:<7} {per['2']['outcome']:<7} {per['3']['outcome']:<7} "
                     f"{tiers}")
    conditioned = s.get("conditioned_validation") or {}
    if conditioned:
        lines += ["", "Validation of the conditioned sets (what the stress figures use: conformance, plausibility, "
                      "coherence, adversarial audit, comparison)"]
        for key, v in conditioned.items():
            tiers = ", ".join(f"{k} {o}" for k, o in v["tier_outcomes"].items())
            lines.append(f"  {key:<46} {v['outcome']:<7} {tiers}")
    for f in s["review"]["findings"]:
        lines.append(f"  finding #{f['id']} ({f['severity']}): {f['title']}")
    stress = s["stress"]
    lines += ["", "Stress of the sample book (historical VaR/ES of the loss over the horizon, USD)",
              f"  {'version':<28} {'condition':<17} {'VaR 99%':>12} {'ES 99%':>12} {'VaR 99.5%':>12} "
              f"{'ES 99.5%':>12}"]
    for r in stress["rows"]:
        lines.append(f"  {r['role'] + ' v' + r['version']:<28} {r['condition']:<17} {_money(r.get('var_99'))} "
                     f"{_money(r.get('es_99'))} {_money(r.get('var_995'))} {_money(r.get('es_995'))}")
    for condition, best in stress["most_conservative"].items():
        lines.append(f"  {'most conservative':<28} {condition:<17} {_money(best.get('var_99'))} "
                     f"{_money(best.get('es_99'))} {_money(best.get('var_995'))} {_money(best.get('es_995'))}"
                     f"   (VaR 99% from {best.get('var_99_from')})")
    comparison = s.get("comparison") or {}
    if comparison.get("rows"):
        lines += ["", "Governed comparison (roles in the inventory; GET /api/v1/models/<id>/comparison/)"]
        for r in comparison["rows"]:
            label = f"{r['role'] or '-'} v{r['version']}"
            lines.append(f"  {label:<28} {r['condition']:<17} {_money(r.get('var_99'))} {_money(r.get('es_99'))} "
                         f"validated: {r.get('validation_outcome') or 'no'}")
        for flag in comparison.get("disagreement", []):
            if flag["flagged"]:
                lines.append(f"  flagged: {flag['version']} {flag['condition']} {flag['measure']} is "
                             f"{flag['ratio']:.2f}× the others' median")
    for note in s["portfolio"]["notes"]:
        lines.append(f"  note: {note}")
    lines.append("")
    outputs = s.get("outputs", {})
    if "report" in s:
        lines.append(f"PDF         {outputs.get('report', s['report']['path'])} ({s['report']['pages']} pages, "
                     f"v{s['report']['version']})")
    if "packet" in s:
        ok = "verifies OK" if s["packet"].get("verified") else "DOES NOT VERIFY"
        lines.append(f"Packet      {outputs.get('packet', s['packet']['path'])} ({s['packet']['files']} files, {ok};"
                     f" check it yourself: python manage.py verify_packet PATH)")
    a = s["audit"]
    lines.append(f"Audit chain {'OK' if a['ok'] else 'BROKEN'}: {a['events']:,} events, head #{a['head_seq']} "
                 f"{a['head_hash']}")
    password = s["password"]
    shown = (f"{password['value']}  (generated; printed this once, kept in {password['file']})"
             if password["value"] else f"from {password['source']}")
    lines += ["", "Browse it:   make serve, open http://127.0.0.1:8000/ and log in as "
              f"{s['users']['auditor']} (read-only) or {s['users']['validator']} / {s['users']['approver']}",
              f"Password    {shown}",
              "Timings     " + ", ".join(f"{k} {v:.0f} s" for k, v in s["timings_s"].items() if k != "total")]
    return "\n".join(lines) + "\n"


class Command(PipelineCommand):
    help = ("Run Crucible's main job: real S&P 500 / NASDAQ / WTI data to a signed, verified submission packet, "
            "with a summary at the end.")

    def add_arguments(self, parser):
        self.add_common_arguments(parser)
        parser.add_argument("--quick", action="store_true", help="a small configuration (for tests)")
        parser.add_argument("--fed-dir", default=None,
                            help="the Fed's supervisory scenario tables (default: the CRUCIBLE_FED_DIR setting)")

    def handle(self, *args, **options):
        out = self.out_dir(options["out"])
        config = pipeline.demo_settings(
            quick=options["quick"], fed_dir=Path(options["fed_dir"]) if options["fed_dir"] else None,
            password=os.environ.get(pipeline.PASSWORD_ENV) or None, timeout_s=options["timeout"])
        summary = self.execute_pipeline(config, out=out, as_json=options["json"])
        summary["quick"] = options["quick"]
        self.emit(summary, as_json=options["json"], title="Crucible demo")
