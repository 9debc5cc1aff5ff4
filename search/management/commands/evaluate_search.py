"""``manage.py evaluate_search --dataset DIR``: retrieval quality per ranking mode.

Never touches the user's data: the command re-runs itself in a child process whose settings
(``knowledge.settings.test`` without ``DATABASE_URL``) start a fresh embedded PostgreSQL
cluster in a temporary directory; the child migrates it, imports the dataset, indexes it with
the configured embedding model, evaluates and exits, and the cluster is deleted with it. The
embedding model and its prompts are passed on explicitly, so the child measures exactly the
model the parent is configured with. (A rolled-back transaction in the user's database was
rejected: it would hold locks on the section pages for minutes and share the page tree.)

Prints nDCG@10, recall@10 and MRR@10 for full text, vector and hybrid, plus Wagtail's own
database search backend on the same pages, and the matching path of ``/lernen/`` ("Matching
(/lernen/)": :func:`search.matching.match_project` with the query text as project description
and the query's municipality as the asking one; its grouped answer flattened by matching score,
see :mod:`search.evaluation`). On the Musterdatenkatalog that puts matching and plain hybrid
search side by side from one run.

``--demo`` also evaluates the demo content (``knowledge/demo_content/*.jsonl``) with three
judged sets: the search queries (``search/judgements/demo_queries.jsonl``; short queries, so
without the matching row), the project descriptions of the matching task
(``search/judgements/matching_descriptions.jsonl``, every row including matching) and the
queries whose answer stands only in an attached file
(``search/judgements/attachment_queries.jsonl``), plus the graded paraphrase queries
(``search/judgements/paraphrase_queries.jsonl``), reported as their tuning and held-out halves
(choose on the tuning half only). ``--compare-query-decompounding`` adds full-text and hybrid
rows with compounds split on the index side only; ``--compare-aids`` a table of the
paraphrase aids (passage bonus, pseudo-relevance feedback) on every judged set. ``--tune``
prints a grid over the fusion parameters (the evidence behind the defaults in settings).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from search import evaluation
from search.embedding import model_environment

CHILD_FLAG = "--inside-throwaway-database"
# Rows of --compare-feedback-signals (eighth round): label, FusionParams overrides.
_TOPIC_OFF = {"topic_feedback_pages": 0}
FEEDBACK_SIGNAL_VARIANTS = (
    ("defaults", {}),
    ("topic feedback off", _TOPIC_OFF),
    *((f"topic feedback {k} pages × {w}", {"topic_feedback_pages": k,
                                           "topic_feedback_weight": w})
      for k, w in ((3, 0.15), (3, 0.3), (2, 0.2), (5, 0.2))),
    ("topic feedback from 6 query terms", {"topic_feedback_min_terms": 6}),
    *((f"term feedback {k} pages, {n} terms × {w} from {m} terms{' + topics' if t else ''}",
       {"term_feedback_pages": k, "term_feedback_terms": n, "term_feedback_weight": w,
        "term_feedback_min_terms": m, **({} if t else _TOPIC_OFF)})
      for k, n, w, m, t in ((5, 20, 0.1, 6, False), (3, 10, 0.1, 6, False),
                            (5, 20, 0.1, 6, True))),
)


def demo_queries_file() -> Path:
    return Path(settings.BASE_DIR) / "search" / "judgements" / "demo_queries.jsonl"


def matching_descriptions_file() -> Path:
    return Path(settings.BASE_DIR) / "search" / "judgements" / "matching_descriptions.jsonl"


def attachment_queries_file() -> Path:
    return Path(settings.BASE_DIR) / "search" / "judgements" / "attachment_queries.jsonl"


def paraphrase_queries_file() -> Path:
    return Path(settings.BASE_DIR) / "search" / "judgements" / "paraphrase_queries.jsonl"


def demo_content_dir() -> Path:
    return Path(settings.BASE_DIR) / "knowledge" / "demo_content"


class Command(BaseCommand):
    help = ("Evaluate search and matching quality (nDCG@10, recall@10, MRR@10 per mode, "
            "'matching' being the /lernen/ path) on a judged dataset, in a throwaway database.")
    all_modes = (*evaluation.MODES, evaluation.WAGTAIL, evaluation.MATCHING)

    def add_arguments(self, parser):
        parser.add_argument("--dataset", type=Path, default=None,
                            help="Directory with records.jsonl and queries.jsonl.")
        parser.add_argument("--demo", action="store_true",
                            help="Also evaluate the demo content: the judged search queries and "
                            "the judged project descriptions of the matching task "
                            "(search/judgements/matching_descriptions.jsonl).")
        parser.add_argument("--modes", nargs="+", default=list(self.all_modes),
                            choices=self.all_modes,
                            help="Rows to print; 'matching' is the /lernen/ matching path "
                            "(default: all).")
        parser.add_argument("--limit-queries", type=int, default=None, metavar="N",
                            help="Only the first N queries (quick checks).")
        parser.add_argument("--tune", action="store_true",
                            help="Print hybrid scores over a grid of fusion parameters.")
        parser.add_argument("--compare-aids", action="store_true",
                            help="hybrid rows of the paraphrase aids of issue 17 (passage bonus, "
                                 "pseudo-relevance feedback) on every set of the import")
        parser.add_argument("--compare-query-decompounding", action="store_true",
                            help="Also print full text and hybrid with compound parts on the "
                            "index side only (KNOWLEDGE_SEARCH_DECOMPOUND_QUERY=0).")
        parser.add_argument("--compare-feedback-signals", action="store_true",
                            help="hybrid rows of topic feedback and full-text pseudo-relevance "
                                 "feedback (eighth round) on every set of the import")
        parser.add_argument("--dump-replay", type=Path, default=None, metavar="DIR",
                            help="Dump every judged set's hybrid candidates with both scores "
                            "for offline studies (search/management/replay.py).")
        parser.add_argument(CHILD_FLAG, action="store_true", dest="child",
                            help="Internal: run in the current (throwaway) database.")

    def handle(self, *args, **options):
        if not options["dataset"] and not options["demo"]:
            raise CommandError("Give --dataset DIR and/or --demo.")
        if options["dataset"] and not (options["dataset"] / "records.jsonl").exists():
            raise CommandError(f"{options['dataset']} has no records.jsonl")
        if options["child"]:
            return self._evaluate(options)
        return self._spawn(options)

    # --- parent: start the child on a throwaway cluster ------------------------------------

    def _spawn(self, options):
        argv = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "evaluate_search",
                CHILD_FLAG, "--modes", *options["modes"]]
        if options["dataset"]:
            argv += ["--dataset", str(options["dataset"].resolve())]
        if options["demo"]:
            argv.append("--demo")
        if options["limit_queries"]:
            argv += ["--limit-queries", str(options["limit_queries"])]
        if options["tune"]:
            argv.append("--tune")
        if options["compare_query_decompounding"]:
            argv.append("--compare-query-decompounding")
        if options["compare_aids"]:
            argv.append("--compare-aids")
        if options["compare_feedback_signals"]:
            argv.append("--compare-feedback-signals")
        if options["dump_replay"]:
            argv += ["--dump-replay", str(options["dump_replay"].resolve())]
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update({
            "DJANGO_SETTINGS_MODULE": "knowledge.settings.test",
            **model_environment(),
            # Indexing is done explicitly (with a progress bar), not by publish signals.
            "KNOWLEDGE_TASK_BACKEND": "django_tasks.backends.dummy.DummyBackend",
        })
        self.stdout.write("Starte Auswertung in einer Wegwerf-Datenbank …")
        completed = subprocess.run(argv, env=env, check=False)
        if completed.returncode:
            raise CommandError(f"evaluation failed (exit status {completed.returncode})")

    # --- child: inside the throwaway database ----------------------------------------------

    def _evaluate(self, options):
        import logging

        from tqdm import tqdm

        # Thousands of imported pages would each log an audit line; keep the output readable.
        logging.getLogger("knowledge.audit").setLevel(logging.WARNING)
        call_command("migrate", verbosity=0, interactive=False)
        from search.embedding import get_embedder

        embedder = get_embedder()
        self.stdout.write(f"Modell: {embedder.model_id} ({settings.KNOWLEDGE_EMBEDDING_MODEL})")
        datasets = []
        if options["dataset"]:
            datasets.append(evaluation.load_dataset(options["dataset"]))
        if options["demo"]:
            datasets.append(evaluation.load_demo_dataset(demo_content_dir(),
                                                         demo_queries_file()))
        for position, dataset in enumerate(datasets, start=1):
            if options["limit_queries"]:
                dataset.queries = dataset.queries[: options["limit_queries"]]
            started = time.monotonic()
            ids = evaluation.import_dataset(dataset, progress=tqdm)
            self.stdout.write(f"{dataset.name}: {len(ids)} Seiten importiert und indiziert "
                              f"in {time.monotonic() - started:.0f} s")
            modes = options["modes"]
            if dataset.name == "demo":
                # Two- and three-word search queries are no project descriptions.
                modes = [m for m in modes if m != evaluation.MATCHING]
            if modes:
                scores = evaluation.evaluate(dataset, ids, modes, progress=tqdm)
                self.stdout.write("\n" + evaluation.format_table(f"### {dataset.name}",
                                                                 scores))
                self._without_query_parts(options, dataset, ids, modes)
            if dataset.name == "demo":
                matching = evaluation.load_matching_dataset(demo_content_dir(),
                                                            matching_descriptions_file())
                if options["limit_queries"]:
                    matching.queries = matching.queries[: options["limit_queries"]]
                scores = evaluation.evaluate(matching, ids, options["modes"], progress=tqdm)
                self.stdout.write("\n" + evaluation.format_table(
                    f"### {matching.name} (Projektbeschreibungen)", scores))
                in_files = evaluation.load_demo_dataset(
                    demo_content_dir(), attachment_queries_file(), name="demo-attachments")
                if options["limit_queries"]:
                    in_files.queries = in_files.queries[: options["limit_queries"]]
                if modes:
                    scores = evaluation.evaluate(in_files, ids, modes, progress=tqdm)
                    self.stdout.write("\n" + evaluation.format_table(
                        f"### {in_files.name} (Antwort nur im Anhang)", scores))
                    self._paraphrases(options, ids, modes, tqdm)
            if options["tune"]:
                self._tune(dataset, ids, tqdm)
            if options["compare_aids"]:
                self._compare_aids(self._judged_sets(dataset, options), ids)
            if options["compare_feedback_signals"]:
                self._hybrid_rows(self._judged_sets(dataset, options), ids,
                                  FEEDBACK_SIGNAL_VARIANTS)
            if options["dump_replay"]:
                from search.embedding import get_embedder
                from search.management import replay

                replay.dump(self._judged_sets(dataset, options), ids, options["dump_replay"],
                            evaluation.CachingEmbedder(get_embedder()))
            if position < len(datasets):  # the throwaway cluster goes with the last one
                self._delete(ids)

    def _paraphrases(self, options, ids, modes, progress):
        """Both halves of the graded paraphrase set (tuning, then held-out)."""
        for half in evaluation.PARAPHRASE_HALVES:
            dataset = evaluation.load_paraphrase_dataset(demo_content_dir(),
                                                         paraphrase_queries_file(), half)
            if options["limit_queries"]:
                dataset.queries = dataset.queries[: options["limit_queries"]]
            scores = evaluation.evaluate(dataset, ids, modes, progress=progress)
            self.stdout.write("\n" + evaluation.format_table(
                f"### {dataset.name} (Umschreibungen, abgestuft 2/1/0)", scores))
            self._without_query_parts(options, dataset, ids, modes)

    def _without_query_parts(self, options, dataset, ids, modes):
        """Full text and hybrid again with compounds split on the index side only."""
        from django.test import override_settings
        from tqdm import tqdm

        wanted = [m for m in modes if m in ("fulltext", "hybrid")]
        if not options["compare_query_decompounding"] or not wanted:
            return
        with override_settings(KNOWLEDGE_SEARCH_DECOMPOUND_QUERY=False):
            scores = evaluation.evaluate(dataset, ids, wanted, progress=tqdm)
        self.stdout.write("\n" + evaluation.format_table(
            f"### {dataset.name}, Komposita nur im Index (nicht in der Anfrage)", scores))

    def _tune(self, dataset, ids, progress):
        from search.embedding import get_embedder
        from search.params import FusionParams

        embedder = evaluation.CachingEmbedder(get_embedder())
        self.stdout.write("\n| full-text scoring | fusion | vector_weight | passage_bonus "
                          "| nDCG@10 | R@10 | MRR@10 |\n|---|---|---:|---:|---:|---:|---:|")
        # Full-text scorings (label, overrides): bm25 with title boosts and length
        # normalisations around the defaults, and the two simpler scorings.
        scorings = [(f"bm25 title={t}", {"fulltext_scoring": "bm25", "title_boost": t})
                    for t in (0.0, 1.0, 2.0, 3.0)]
        scorings += [(f"bm25 b={b}", {"fulltext_scoring": "bm25", "bm25_b": b})
                     for b in (0.5, 1.0)]
        scorings += [("idf", {"fulltext_scoring": "idf"}),
                     ("ts_rank_cd", {"fulltext_scoring": "ts_rank_cd"})]
        for label, overrides in scorings:
            params = FusionParams.from_settings(**overrides)
            s = evaluation.run_mode(dataset, "fulltext", ids, embedder=embedder, params=params)
            self.stdout.write(f"| {label} | (fulltext mode) | – | – | {s.ndcg:.3f} "
                              f"| {s.recall:.3f} | {s.mrr:.3f} |")
        defaults = FusionParams.from_settings()
        # Weights around the default for every title boost; the other scorings, the passage
        # bonus, passage-level fusion and plain RRF at the defaults.
        grid = [(scoring, "page", weight, 0.0)
                for scoring in scorings[:4] for weight in (0.7, 0.75, 0.8, 0.85)]
        grid += [(scoring, "page", defaults.vector_weight, 0.0) for scoring in scorings[4:]]
        grid += [(scorings[2], level, defaults.vector_weight, bonus)
                 for level, bonus in (("page", 0.1), ("passage", 0.0), ("rrf", 0.0))]
        for (label, overrides), level, weight, bonus in grid:
            params = FusionParams.from_settings(vector_weight=weight, passage_bonus=bonus,
                                                fusion_level=level, **overrides)
            s = evaluation.run_mode(dataset, "hybrid", ids, embedder=embedder, params=params)
            self.stdout.write(f"| {label} | {level} | {weight if level != 'rrf' else '–'} "
                              f"| {bonus} | {s.ndcg:.3f} | {s.recall:.3f} | {s.mrr:.3f} |")

    def _judged_sets(self, dataset, options) -> list:
        """The judged sets over one import: the demo content carries five, a dataset one."""
        if dataset.name != "demo":
            return [dataset]
        content = demo_content_dir()
        sets = [dataset,
                evaluation.load_matching_dataset(content, matching_descriptions_file()),
                evaluation.load_demo_dataset(content, attachment_queries_file(),
                                             name="demo-attachments")]
        sets += [evaluation.load_paraphrase_dataset(content, paraphrase_queries_file(), half)
                 for half in evaluation.PARAPHRASE_HALVES]
        if options["limit_queries"]:
            for judged in sets:
                judged.queries = judged.queries[: options["limit_queries"]]
        return sets

    def _compare_aids(self, sets, ids):
        """Hybrid nDCG@10 / R@10 / MRR@10 of each paraphrase aid (docs/search-ranking.md).

        Pseudo-relevance feedback (:mod:`search.feedback`) with its number of feedback pages,
        weight, with or without new candidates and from a minimum query length; the passage
        bonus; fusion weights by query length; candidate depths (the defaults are 70 since the
        seventh round, so the 100 of before is a row of its own); each against the defaults in
        the first row.
        """
        from search.params import FusionParams

        defaults = FusionParams.from_settings()
        variants = [("defaults", {})]
        variants += [(f"passage bonus {b}", {"passage_bonus": b}) for b in (0.0, 0.1, 0.2)
                     if b != defaults.passage_bonus]
        variants += [(f"feedback {n} pages × {w}{' + candidates' if x else ''}"
                      f"{f' from {m} terms' if m else ''}" if n else "no feedback",
                      {"feedback_pages": n, "feedback_weight": w, "feedback_expand": x,
                       "feedback_min_terms": m})
                     for n, w, x, m in ((0, 0.5, False, 0),
                                        (1, 0.25, False, 0), (3, 0.25, False, 0),
                                        (3, 0.5, False, 0), (3, 1.0, False, 0),
                                        (3, 0.5, True, 0), (3, 0.5, False, 10),
                                        (3, 0.5, False, 15), (3, 1.0, False, 15),
                                        (5, 0.5, False, 15), (3, 0.5, True, 15),
                                        (3, 0.5, False, 20))]
        # Query-length-adaptive fusion weights: (weight for short queries, for long ones).
        variants += [(f"weight {short or long or defaults.vector_weight} → "
                      f"{long or defaults.vector_weight} by query length",
                      {"vector_weight_short": short, "vector_weight": long})
                     for short, long in ((0.5, None), (0.6, None), (0.65, None),
                                         (None, 0.8), (None, 0.85), (0.6, 0.8), (0.6, 0.85),
                                         (0.5, 0.85))]
        variants += [("weight 0.7", {"vector_weight": 0.7})]
        # Candidate depths around the default: the latency lever of issue 16
        # (docs/speed-history.md).
        variants += [(f"{n} candidates per retriever, ef_search {ef}",
                      {"candidates": n, "ef_search": ef})
                     for n, ef in ((50, 100), (50, 50), (100, 100))]
        self._hybrid_rows(sets, ids, variants)

    def _hybrid_rows(self, sets, ids, variants):
        """Hybrid nDCG@10 / R@10 / MRR@10 of each (label, FusionParams overrides) per set."""
        from search.embedding import get_embedder
        from search.params import FusionParams

        embedder = evaluation.CachingEmbedder(get_embedder())
        self.stdout.write("\n| Variant | " + " | ".join(s.name for s in sets) + " |\n|---|"
                          + "---:|" * len(sets))
        for label, overrides in variants:
            params = FusionParams.from_settings(**overrides)
            cells = []
            for judged in sets:
                s = evaluation.run_mode(judged, "hybrid", ids, embedder=embedder, params=params)
                cells.append(f"{s.ndcg:.3f} / {s.recall:.3f} / {s.mrr:.3f}")
            self.stdout.write(f"| {label} | " + " | ".join(cells) + " |")

    def _delete(self, ids):
        """Remove a dataset before the next one (both live only in the throwaway cluster)."""
        from knowledge.models import KnowledgePage

        for page in KnowledgePage.objects.filter(pk__in=list(ids)).order_by("-depth"):
            page.delete()
