"""Convert the Open Terms Archive watch-list into clausewatch's bundled declarations.

    python scripts/watchlist_convert.py           # writes clausewatch/watchlists/ai-platforms.yaml
    python scripts/watchlist_convert.py --check   # exit 1 if the shipped file is stale

Input: ``../shared/data/watchlist/genai-services.json`` (where 53 AI and technology services
publish their terms: URLs, CSS selectors to keep and drop, whether the page needs JavaScript),
gathered from the declarations of Open Terms Archive's "Generative AI Contrib" (AGPL-3.0) and
"Contrib" (EUPL-1.2) collections; credit "Open Terms Archive contributors".

Each (service, terms type) becomes one declaration: the service name becomes a platform slug
(``PLATFORM_IDS`` where clausewatch's imported history already uses another id, so that
backfilled history and live watching are the same documents), the terms type one of our
document types (``DOC_TYPES``), a document published on several pages becomes ``parts`` in
their declared order, and ``needs_javascript`` becomes ``render: true``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "watchlist" / "genai-services.json"
DEFAULT_OUTPUT = REPO / "clausewatch" / "watchlists" / "ai-platforms.yaml"

# Open Terms Archive terms type -> clausewatch doc_type.
DOC_TYPES: dict[str, str] = {
    "Terms of Service": "terms_of_service",
    "Privacy Policy": "privacy_policy",
    "Acceptable Use Policy": "acceptable_use_policy",
    "Trackers Policy": "cookie_policy",
    "Data Processor Agreement": "dpa",
    "Commercial Terms": "commercial_terms",
    "Developer Terms": "developer_terms",
    "Brand Guidelines": "brand_guidelines",
    "Service Level Agreement": "service_level_agreement",
    "Vulnerability Disclosure Policy": "vulnerability_disclosure_policy",
    "Community Guidelines": "community_guidelines",
    "In-App Purchases Policy": "in_app_purchases_policy",
    "Business Privacy Policy": "business_privacy_policy",
    "Law Enforcement Guidelines": "law_enforcement_guidelines",
    "Imprint": "imprint",
}

# Service names whose slug is not simply the lower-cased name: the ids of the history in
# ../shared/data/policies (Le Chat's and Grok's documents are Mistral AI's and xAI's), and
# names without Latin letters.
PLATFORM_IDS: dict[str, str] = {
    "Le Chat": "mistral-ai",
    "Grok": "xai",
    "豆包": "doubao",  # ByteDance's Doubao
    "文心一言": "ernie-bot",  # Baidu's ERNIE Bot (Wenxin Yiyan)
    "Google Generative AI Services": "google-generative-ai",
}


def platform_id(service: str) -> str:
    if service in PLATFORM_IDS:
        return PLATFORM_IDS[service]
    slug = re.sub(r"[^a-z0-9]+", "-", service.lower()).strip("-")
    if not slug:
        raise SystemExit(f"no platform id for service {service!r}: add it to PLATFORM_IDS")
    return slug


def _page(part: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"url": part["url"]}
    if part.get("select"):
        out["select"] = list(part["select"])
    if part.get("remove"):
        out["remove"] = list(part["remove"])
    if part.get("needs_javascript"):
        out["render"] = True
    return out


def declarations(data: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(service name, its declarations) in the input's order."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    seen: set[tuple[str, str]] = set()
    for service in data["services"]:
        name = service["service"]
        platform = platform_id(name)
        decls: list[dict[str, Any]] = []
        for terms_type, pages in service["terms"].items():
            if terms_type not in DOC_TYPES:
                raise SystemExit(f"{name}: terms type {terms_type!r} has no doc_type in DOC_TYPES")
            doc_type = DOC_TYPES[terms_type]
            if (platform, doc_type) in seen:
                raise SystemExit(f"{name}: two documents would be {platform}/{doc_type}")
            seen.add((platform, doc_type))
            decl: dict[str, Any] = {"platform": platform, "doc_type": doc_type}
            if not pages:
                raise SystemExit(f"{name}: {terms_type} has no URL")
            if len(pages) == 1:
                decl.update(_page(pages[0]))
            else:
                decl["parts"] = [_page(p) for p in pages]
            decls.append(decl)
        out.append((name, decls))
    return out


def coverage(groups: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, int]:
    docs = [d for _name, decls in groups for d in decls]
    pages = [p for d in docs for p in d.get("parts", [d])]
    return {
        "services": len(groups),
        "documents": len(docs),
        "render": sum(1 for d in docs if any(p.get("render") for p in d.get("parts", [d]))),
        "parts": sum(1 for d in docs if "parts" in d),
        "pages": len(pages),
    }


def render_yaml(data: dict[str, Any]) -> str:
    groups = declarations(data)
    cov = coverage(groups)
    header = [
        "# clausewatch bundled watch-list 'ai-platforms': where "
        f"{cov['services']} AI and technology services",
        f"# publish {cov['documents']} documents ({cov['render']} need JavaScript to show "
        f"their text: render: true; {cov['parts']} are",
        "# published in parts, fetched and joined in order).",
        "#",
        "# Facts gathered by Open Terms Archive contributors (https://opentermsarchive.org),",
        '# from the declarations of the "Generative AI Contrib" collection (AGPL-3.0) and of',
        '# the "Contrib" collection (EUPL-1.2); credit "Open Terms Archive contributors".',
        "# Sources:",
        *(f"#   {source}" for source in data.get("source", [])),
        "# Pages move: a URL may be stale (check them: clausewatch sources check ai-platforms).",
        "#",
        "# Generated by scripts/watchlist_convert.py from",
        "# shared/data/watchlist/genai-services.json;",
        "# do not edit by hand: add or override declarations in your own file instead",
        "# (clausewatch run --sources ai-platforms --sources my-sources.yaml).",
        "sources:",
    ]
    lines = list(header)
    for name, decls in groups:
        lines.append(f"  # {name}")
        for decl in decls:
            text = yaml.safe_dump(
                [decl], sort_keys=False, allow_unicode=True, width=1000, default_flow_style=None
            )
            lines.extend(f"  {line}" for line in text.rstrip("\n").splitlines())
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    args = parser.parse_args(argv)
    data = json.loads(args.input.read_text(encoding="utf-8"))
    text = render_yaml(data)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run scripts/watchlist_convert.py", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    cov = coverage(declarations(data))
    print(
        f"wrote {args.output}: {cov['services']} services, {cov['documents']} documents "
        f"({cov['render']} need rendering, {cov['parts']} in parts, {cov['pages']} pages)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
