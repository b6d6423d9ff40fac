"""``python manage.py reproduce --generation-run ID``: re-run a generation and compare with what was stored.

The run is re-sampled in this process from its recorded checkpoint (the version's, verified against
its SHA-256), seed, condition and size, through the very function the worker uses
(``scenarios.services.runs.generation_sample``); nothing is written. The regenerated paths are
serialised to the canonical Parquet bytes and hashed.

It matches when the regenerated SHA-256, the scenario set's recorded SHA-256 and the SHA-256 of the
stored file are all the same (bit-for-bit; the expectation on CPU). Where CUDA is available here the
deep engines sample on the GPU, whose kernels need not be bit-reproducible; there, if the hashes
differ but the stored file is intact, the arrays are compared instead and match when
``|regenerated - stored| <= atol + rtol * |stored|`` everywhere (defaults rtol 1e-3, atol 1e-6:
float32 and autocast kernels may reorder sums). Exit 0: match; 1: mismatch; 2: bad input.
"""

from __future__ import annotations

import hashlib

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from governance.artifacts import artifact_root
from governance.errors import ApplicationError
from governance.models import RunStatus
from scenarios import scenario_files
from scenarios.models import GenerationRun, ScenarioSet
from scenarios.services.runs import generation_sample

DEFAULT_RTOL = 1e-3
DEFAULT_ATOL = 1e-6


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


class Command(BaseCommand):
    help = "Re-run a generation run from its recorded checkpoint, seed and condition; exit 0 if the set matches."

    def add_arguments(self, parser):
        parser.add_argument("--generation-run", type=int, required=True, help="generation run id")
        parser.add_argument("--rtol", type=float, default=DEFAULT_RTOL, help="relative tolerance (CUDA only)")
        parser.add_argument("--atol", type=float, default=DEFAULT_ATOL, help="absolute tolerance (CUDA only)")

    def handle(self, *args, **options):
        run = GenerationRun.objects.select_related("model_version").filter(pk=options["generation_run"]).first()
        if run is None:
            raise CommandError(f"generation run {options['generation_run']} does not exist", returncode=2)
        scenario_set = ScenarioSet.objects.filter(generation_run=run).first()
        if run.status != RunStatus.SUCCEEDED or scenario_set is None:
            raise CommandError(f"generation run {run.pk} is {run.status} and has no scenario set to compare with",
                               returncode=2)
        try:
            paths, state = generation_sample(run)
        except ApplicationError as error:
            raise CommandError(error.message, returncode=2) from error
        regenerated = hashlib.sha256(scenario_files.canonical_bytes(paths, state.factors)).hexdigest()
        try:
            stored_bytes = (artifact_root() / scenario_set.storage_path).read_bytes()
        except OSError as error:
            raise CommandError(f"the stored scenario set cannot be read: {error.strerror or error}",
                               returncode=2) from error
        stored = hashlib.sha256(stored_bytes).hexdigest()
        device = "cuda" if cuda_available() else "cpu"
        w = self.stdout.write
        w(f"generation run {run.pk}: engine {state.engine}, seed {run.seed}, n {run.n_scenarios}, "
          f"horizon {run.horizon}, checkpoint {run.model_version.checkpoint_sha256[:12]}, device {device}")
        w(f"recorded    sha256 {scenario_set.sha256}")
        w(f"stored file sha256 {stored}")
        w(f"regenerated sha256 {regenerated}")
        if stored != scenario_set.sha256:
            raise CommandError(f"MISMATCH: the stored file of scenario set {scenario_set.pk} and its recorded SHA-256 "
                               "disagree (one of them was altered)", returncode=1)
        if regenerated == scenario_set.sha256:
            w("MATCH: bit-for-bit")
            return
        array, factors = scenario_files.read_canonical(stored_bytes)
        if list(factors) != list(state.factors) or array.shape != paths.shape:
            raise CommandError(f"MISMATCH: shape/factors differ ({array.shape} vs {paths.shape})", returncode=1)
        difference = float(np.max(np.abs(paths - array))) if array.size else 0.0
        w(f"max |regenerated - stored| = {difference:.3e}")
        if device == "cuda" and np.allclose(paths, array, rtol=options["rtol"], atol=options["atol"]):
            w(f"MATCH: within rtol {options['rtol']:g}, atol {options['atol']:g} (CUDA; not bit-for-bit)")
            return
        raise CommandError("MISMATCH: the regenerated scenario set differs from the stored one", returncode=1)
