"""``clausewatch classifier train|classify|info``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The offline clause classifier (taxonomy slugs).", no_args_is_help=True
    )
    app.add_typer(group, name="classifier")

    @group.command("train")
    def train_cmd(
        data: Annotated[
            Path | None,
            typer.Option(help="labelled data in the CLAUDETTE layout (sentences/, tags/)"),
        ] = None,
        drafts: Annotated[
            bool, typer.Option(help="also learn from editors' approved draft categories")
        ] = True,
        cv: Annotated[
            bool, typer.Option(help="first report document-level cross-validation figures")
        ] = False,
        folds: Annotated[int, typer.Option(min=2, max=20)] = 5,
        c: Annotated[float, typer.Option("--c", min=0.001, help="SVM regularisation C")] = 0.5,
        tune_all: Annotated[
            bool,
            typer.Option(
                help="also tune the thresholds of the labels your data annotates "
                "(default: only labels learnt from examples/drafts are tuned)"
            ),
        ] = False,
    ) -> None:
        """Train the workspace model (kept in <home>/models/classifier/trained.joblib)."""
        from rich.console import Console
        from rich.progress import Progress

        from clausewatch.classifier import store
        from clausewatch.classifier.model import TrainParams
        from clausewatch.classifier.train import cross_validate, effective_params, gather, train

        console = Console()
        gathered = gather(data, drafts=drafts)
        params = effective_params(gathered, TrainParams(c=c), tune_all)
        console.print(
            f"training data: {len(gathered.user)} sentences from "
            f"{len(set(gathered.user.groups))} documents + {len(gathered.extra)} examples/drafts"
        )
        if cv:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("cross-validating by document", total=folds)
                scores = cross_validate(
                    gathered,
                    params,
                    folds=folds,
                    progress=lambda d, _t: progress.update(task, completed=d),
                )
            console.print(
                f"CV ({folds} folds by document) UNFAIR-ToS micro-F1 {scores['micro_f1']:.4f}"
                f"  macro-F1 {scores['macro_f1']:.4f}"
            )
        with console.status("training"):
            model = train(gathered, params)
        if data is not None:
            model.meta["user_data"] = str(data.resolve())
        path = store.save(model, store.trained_path())
        console.print(f"model saved: {path} ({len(model.labels)} labels)")

    @group.command("classify")
    def classify_cmd(
        text: Annotated[list[str], typer.Argument(help="clause text(s); '-' reads stdin")],
        scores: Annotated[bool, typer.Option(help="show the margin of every label")] = False,
        llm: Annotated[
            bool, typer.Option("--llm", help="also ask the LLM for a second opinion")
        ] = False,
        backend: Annotated[str | None, typer.Option(help="LLM backend for --llm")] = None,
    ) -> None:
        """Print the taxonomy slugs of each clause."""
        import sys

        from clausewatch.classifier import store
        from clausewatch.core.errors import InputError

        texts = [sys.stdin.read() if t == "-" else t for t in text]
        if not all(t.strip() for t in texts):
            raise InputError("empty clause text")
        model = store.current_model()
        margins = model.margins(texts)
        predicted = model.predict(texts)
        opinions: list[list[str]] = []
        if llm:
            from clausewatch.classifier.llm_opinion import llm_classify

            opinions = llm_classify(texts, backend=backend, hints=predicted)
        for i, (t, labels, row) in enumerate(zip(texts, predicted, margins, strict=True)):
            head = t.strip().replace("\n", " ")
            typer.echo(f"{', '.join(labels) or '(none)'}\t{head[:80]}")
            if opinions:
                typer.echo(f"    llm: {', '.join(opinions[i]) or '(none)'}")
            if scores:
                ranked = sorted(zip(model.labels, row, strict=True), key=lambda p: -p[1])
                for label, margin in ranked[:5]:
                    typer.echo(f"    {label:26s} {margin:+.3f}")
        typer.echo(f"(model: {store.current_kind()})", err=True)

    @group.command("info")
    def info_cmd() -> None:
        """Which model is in use, and what it was trained on."""
        import json

        from clausewatch.classifier import store

        model = store.current_model()
        typer.echo(f"model: {store.current_kind()}")
        typer.echo(json.dumps(model.meta, indent=2))
