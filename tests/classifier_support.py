"""A tiny labelled set in the CLAUDETTE layout, written for these tests."""

from __future__ import annotations

from pathlib import Path

DOCS: dict[str, list[tuple[str, str]]] = {
    "Alpha": [
        ("Welcome to Alpha, a note-taking app.", ""),
        ("We may change these terms at any time without notice.", "ch2"),
        ("Alpha may terminate your account at any time for any reason.", "ter3"),
        ("These terms are governed by the laws of the State of Ohio.", "law2"),
        ("We are not liable for any indirect or consequential damages.", "ltd2"),
        ("Please contact support if you need help.", ""),
    ],
    "Beta": [
        ("Beta is a photo sharing service.", ""),
        ("We may modify these terms from time to time at our discretion.", "ch2"),
        ("We may suspend or terminate your access without notice.", "ter2"),
        ("Any dispute will be resolved by binding arbitration in Denver.", "a2 j3"),
        ("Our total liability will not exceed fifty dollars.", "ltd2"),
        ("The courts of Ohio have exclusive jurisdiction.", "j1"),
    ],
    "Gamma": [
        ("Gamma helps you plan trips.", ""),
        ("Gamma reserves the right to amend these terms at any time.", "ch2"),
        ("We can close your account if you break these rules.", "ter2 countrym"),
        ("By using the service you accept these terms.", "use2"),
        ("In no event shall Gamma be liable for lost profits.", "ltd3"),
        ("We may remove any content you post at our sole discretion.", "cr2"),
    ],
}


def write_claudette(root: Path, docs: dict[str, list[tuple[str, str]]] = DOCS) -> Path:
    sentences = root / "sentences" / "en" / "original"
    tags = root / "tags" / "en" / "original"
    sentences.mkdir(parents=True)
    tags.mkdir(parents=True)
    for name, rows in docs.items():
        (sentences / f"{name}.txt").write_text("\n".join(s for s, _ in rows) + "\n")
        (tags / f"{name}.txt").write_text("\n".join(t for _, t in rows) + "\n")
    return root


def copies(
    n: int, docs: dict[str, list[tuple[str, str]]] = DOCS
) -> dict[str, list[tuple[str, str]]]:
    """``n`` copies of every document, each sentence made unique by its document's name."""
    return {
        f"{name}{i}": [(f"{text[:-1]} ({name}{i}).", tags) for text, tags in rows]
        for i in range(n)
        for name, rows in docs.items()
    }
