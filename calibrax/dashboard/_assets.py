"""The pages of the dashboard: small HTML shells that load their data and the one shared script.

Data files are scripts that assign JSON to a global (``window.CALIBRAX_PAGE = {...};``), so the
site works from ``file://`` where ``fetch()`` is refused. ``<`` is escaped in them, so no value
can end the script early.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

__all__ = ["SCRIPT", "STYLE", "benchmark_html", "data_script", "index_html", "regressions_html"]

SCRIPT = resources.files("calibrax.dashboard").joinpath("static", "dashboard.js").read_text(encoding="utf-8")
STYLE = resources.files("calibrax.dashboard").joinpath("static", "dashboard.css").read_text(encoding="utf-8")


def data_script(name: str, data: Any) -> str:
    """A script that assigns ``data`` to ``window.<name>``, safe inside any page.

    Example:
        >>> data_script("X", {"a": "</script>"})
        'window.X = {"a":"\\\\u003c/script>"};\\n'
    """
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    return f"window.{name} = {text};\n"


def _page(title: str, kind: str, prefix: str, scripts: list[str], body: str) -> str:
    tags = "\n".join(f'<script src="{html.escape(prefix + s)}"></script>' for s in scripts)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{prefix}assets/dashboard.css">
</head>
<body data-page="{kind}" data-root="{prefix}">
<header><a class="home" href="{prefix}index.html">{html.escape(title)}</a>
<nav><a href="{prefix}index.html">Benchmarks</a> <a href="{prefix}regressions.html">Regressions</a>
<a href="{prefix}regressions.xml">Atom feed</a></nav></header>
<main>
{body}
</main>
{tags}
<script src="{prefix}assets/dashboard.js"></script>
</body>
</html>
"""


def index_html(title: str) -> str:
    """The index: every case per hardware with its latest value, trend, last changepoint and verdict.

    Example:
        >>> "data/index.js" in index_html("calibrax")
        True
    """
    body = """<h1>Benchmarks</h1>
<p class="summary" id="summary"></p>
<div class="controls"><label>Hardware <select id="hardware"></select></label>
<label>Filter <input id="filter" type="search" placeholder="benchmark or params"></label></div>
<table id="cases"><thead><tr><th>Benchmark</th><th>Params</th><th>Hardware</th><th>Latest (95% CI)</th>
<th>Trend</th><th>Last changepoint</th><th>Verdict</th></tr></thead><tbody></tbody></table>"""
    return _page(title, "index", "", ["data/site.js", "data/index.js"], body)


def regressions_html(title: str) -> str:
    """Every changepoint that made a case worse, newest first.

    Example:
        >>> "data/regressions.js" in regressions_html("calibrax")
        True
    """
    body = """<h1>Regressions</h1>
<p>Every changepoint that made a case worse, newest first (also as an <a href="regressions.xml">Atom feed</a>).</p>
<table id="regressions"><thead><tr><th>Run started</th><th>Benchmark</th><th>Params</th><th>Hardware</th>
<th>Change</th><th>Before &rarr; after</th><th>p</th><th>Run</th><th>Commit</th></tr></thead><tbody></tbody></table>"""
    return _page(title, "regressions", "", ["data/site.js", "data/regressions.js"], body)


def benchmark_html(name: str, slug: str, title: str, base_file: str | None = None) -> str:
    """One benchmark's page: a history chart per case, chosen by params and hardware; its older
    points come from ``base_file`` (in ``data/b/``), its newer ones from ``data/b/<slug>.js``.

    Example:
        >>> page = benchmark_html("matmul", "matmul-abc", "calibrax", "matmul-abc.base-01.js")
        >>> "../data/b/matmul-abc.js" in page and "../data/b/matmul-abc.base-01.js" in page
        True
    """
    body = f"""<h1>{html.escape(name)}</h1>
<div class="controls" id="selectors"></div>
<div class="controls"><label>X axis <select id="xmode"><option value="order">commit order</option>
<option value="date">date</option></select></label>
<label><input type="checkbox" id="log"> log scale</label></div>
<figure><svg id="chart" role="img" aria-label="history chart" viewBox="0 0 960 380"></svg>
<figcaption id="caption"></figcaption></figure>
<div id="point" class="point" hidden></div>
<h2>Changepoints</h2><table id="changepoints"><thead><tr><th>Run</th><th>Commit</th><th>Change</th>
<th>Before &rarr; after</th><th>p</th></tr></thead><tbody></tbody></table>
<h2>Annotations</h2><ul id="notes"></ul>"""
    scripts = ["data/site.js", "data/runs.js", *([f"data/b/{base_file}"] if base_file else []), f"data/b/{slug}.js"]
    return _page(f"{name}: {title}", "benchmark", "../", scripts, body)
