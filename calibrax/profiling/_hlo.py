"""Facts read from a compiled executable's HLO text (``compiled.as_text()``).

- How many devices run the program: ``num_partitions`` x ``replica_count`` of the module
  header (SPMD: every device runs the same per-device program that cost analysis describes).
- The element types of its dots and convolutions (``dot``, ``convolution`` and the cuBLAS /
  cuDNN custom calls XLA:GPU rewrites them into), each weighted by its FLOPs from its shapes,
  so the roofline can pick the peak of the dtype the work runs in.
- The custom calls whose arithmetic XLA's cost analysis cannot see (Pallas, Triton, cuDNN
  fused attention, LAPACK), and the Pallas ``cost_estimate`` carried by some of them.

Instruction lines look like ``%dot.1 = f32[64,64]{1,0} dot(%a, %b), lhs_contracting_dims={1}``;
operand types are found through each computation's own table of names (``%param_0`` exists in
every fused computation), and older printers that write ``dot(f32[64,64] %a, ...)`` work too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COUNTED_CUSTOM_CALLS", "HloFacts", "dtype_key", "hlo_facts"]

_INSTR = re.compile(r"^\s*(?P<root>ROOT\s+)?%?(?P<name>[^\s=]+)\s*=\s*(?P<type>.+?)\s+(?P<op>[a-z][\w\-]*)\((?P<rest>.*)$")
_OPERAND = re.compile(r"(?:(?P<type>[a-z][a-z0-9]*\[[^\]]*\])(?:\{[^}]*\})?\s+)?%(?P<name>[\w.\-]+)")
_ARRAY = re.compile(r"(?P<elem>[a-z][a-z0-9]*)\[(?P<dims>[^\]]*)\]")
_TARGET = re.compile(r'custom_call_target="(?P<target>[^"]+)"')
_ESTIMATE = re.compile(r'"cost_estimate"\s*:\s*(?P<json>\{[^{}]*\})')

COUNTED_CUSTOM_CALLS = (
    "__cublas$gemm", "__cublas$lt$matmul", "__cudnn$conv",  # XLA:GPU's cost analysis models these
    "Sharding", "SPMDFullToShardShape", "SPMDShardToFullShape", "annotate_device_placement",
    "MoveToHost", "MoveToDevice", "PadToStatic", "SliceToDynamic", "AllocateBuffer", "LayoutConstraint",
)
"""Custom-call targets (prefixes) that either XLA's cost analysis counts or that do no arithmetic."""

_DTYPES = {"bf16": "bf16", "f16": "fp16", "f32": "fp32", "f64": "fp64", "s8": "int8", "u8": "int8",
           "s4": "int4", "u4": "int4"}
_ITEMSIZE = {"pred": 1, "s4": 0.5, "u4": 0.5, "s8": 1, "u8": 1, "f8e4m3fn": 1, "f8e5m2": 1, "bf16": 2, "f16": 2,
             "s16": 2, "u16": 2, "f32": 4, "s32": 4, "u32": 4, "f64": 8, "s64": 8, "u64": 8, "c64": 8, "c128": 16}


def dtype_key(element_type: str) -> str | None:
    """The peak-table key (``bf16``, ``fp32``, ...) of an HLO element type; None for the rest.

    Example:
        >>> dtype_key("bf16"), dtype_key("f32"), dtype_key("f8e4m3fn"), dtype_key("pred")
        ('bf16', 'fp32', 'fp8', None)
    """
    if element_type.startswith("f8"):
        return "fp8"
    return _DTYPES.get(element_type)


@dataclass(frozen=True)
class HloFacts:
    """What :func:`hlo_facts` found in one executable's HLO text.

    Attributes:
        partitions: ``num_partitions`` of the module (1 when the header does not say).
        replicas: ``replica_count`` of the module (1 when the header does not say).
        compute: peak key -> FLOPs of the dots and convolutions in that dtype (their shapes'
            count; a loop body once). An f32 dot at default precision is keyed ``fp32`` with
            ``tf32_eligible`` counting its FLOPs too, since XLA:GPU may run it as TF32.
        tf32_eligible: FLOPs of f32 dots and convolutions at default precision.
        unknown_compute: the element types of dots or convolutions no peak key describes.
        shapeless_compute: dots or convolutions whose FLOPs could not be read from their shapes.
        output_dtypes: peak keys of the entry computation's result types.
        custom_calls: target -> count, for every custom call.
        uncounted: targets of custom calls whose arithmetic XLA does not count.
        cost_estimates: the Pallas ``cost_estimate`` of each uncounted call that carries one.
    """

    partitions: int = 1
    replicas: int = 1
    compute: dict[str, float] = field(default_factory=dict)
    tf32_eligible: float = 0.0
    unknown_compute: tuple[str, ...] = ()
    shapeless_compute: int = 0
    output_dtypes: tuple[str, ...] = ()
    custom_calls: dict[str, int] = field(default_factory=dict)
    uncounted: tuple[str, ...] = ()
    cost_estimates: tuple[dict[str, float], ...] = ()


@dataclass
class _Instr:
    name: str
    type: str
    op: str
    operands: list[tuple[str | None, str]]
    attrs: str
    root: bool = False


def _split_call(rest: str) -> tuple[str, str]:
    """``a, b), attr=...`` -> (``a, b``, ``attr=...``): the operand list up to its closing paren."""
    depth = 1
    for i, ch in enumerate(rest):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return rest[:i], rest[i + 1:]
    return rest, ""


def _computations(text: str) -> Iterator[tuple[bool, list[_Instr]]]:
    """Each computation of the module: (is the entry, its instructions)."""
    entry, body = False, list[_Instr]()
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith("{"):
            if body:
                yield entry, body
            entry, body = line.startswith("ENTRY"), []
            continue
        m = _INSTR.match(line)
        if m is None:
            continue
        args, attrs = _split_call(m["rest"])
        operands = [(o["type"], o["name"]) for o in _OPERAND.finditer(args)]
        body.append(_Instr(m["name"].lstrip("%"), m["type"], m["op"], operands, attrs.replace('\\"', '"'),
                           root=bool(m["root"])))
    if body:
        yield entry, body


def _arrays(type_text: str) -> list[tuple[str, list[int]]]:
    out = []
    for m in _ARRAY.finditer(type_text):
        dims = [int(d) for d in re.findall(r"\d+", m["dims"])]
        out.append((m["elem"], dims))
    return out


def _compute_flops(ins: _Instr, shapes: list[tuple[str, list[int]]]) -> float | None:
    """FLOPs of a dot or convolution from its shapes (2 x outputs x reduction size)."""
    result = _arrays(ins.type)
    if not result or len(shapes) < 2:
        return None
    out = math.prod(result[0][1])
    if ins.op == "dot" or ins.attrs.find("lhs_contracting_dim") >= 0:
        m = re.search(r'lhs_contracting_dim(?:s|ensions)"?\s*[=:]\s*[\[{]([^\]}]*)[\]}]', ins.attrs)
        if m is None:
            return None
        lhs = shapes[0][1]
        contract = [int(d) for d in re.findall(r"\d+", m.group(1))]
        if any(d >= len(lhs) for d in contract):
            return None
        return 2.0 * out * math.prod(lhs[d] for d in contract)
    labels = re.search(r"dim_labels=\w+_(\w+)->", ins.attrs)
    rhs = shapes[1][1]
    if labels is None or "o" not in labels.group(1) or len(labels.group(1)) != len(rhs):
        return None
    o = rhs[labels.group(1).index("o")]
    return 2.0 * out * math.prod(rhs) / o if o else None


def _is_compute(ins: _Instr) -> bool:
    if ins.op in ("dot", "convolution"):
        return True
    target = _TARGET.search(ins.attrs)
    return ins.op == "custom-call" and target is not None and target["target"].startswith(
        ("__cublas$gemm", "__cublas$lt$matmul", "__cudnn$conv"))


def _default_precision(ins: _Instr) -> bool:
    low = re.sub(r"metadata=\{[^}]*\}", "", ins.attrs).lower()
    return not any(word in low for word in ("highest", "high,", "high}", "f32_f32_f32", "tf32"))


def hlo_facts(text: str) -> HloFacts:
    """Read partitions, dot/convolution dtypes and custom calls from HLO text.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> x = jnp.ones((8, 8))
        >>> hlo_facts(jax.jit(jnp.matmul).lower(x, x).compile().as_text()).compute
        {'fp32': 1024.0}
    """
    header = text.split("\n", 1)[0] if text.startswith("HloModule") else ""
    parts = re.search(r"num_partitions=(\d+)", header)
    reps = re.search(r"replica_count=(\d+)", header)
    compute: dict[str, float] = {}
    tf32, unknown, shapeless = 0.0, set(), 0
    calls: dict[str, int] = {}
    uncounted: list[str] = []
    estimates: list[dict[str, float]] = []
    outputs: tuple[str, ...] = ()
    for entry, body in _computations(text):
        table = {ins.name: ins.type for ins in body}
        for ins in body:
            if ins.op == "custom-call":
                target = _TARGET.search(ins.attrs)
                name = target["target"] if target else "?"
                calls[name] = calls.get(name, 0) + 1
                if not name.startswith(COUNTED_CUSTOM_CALLS):
                    uncounted.append(name)
                    est = _ESTIMATE.search(ins.attrs)
                    if est is not None:
                        estimates.append(_estimate(est["json"]))
            if not _is_compute(ins):
                continue
            shapes = [a for t, n in ins.operands for a in _arrays(t or table.get(n, ""))[:1]]
            elem = max((e for e, _ in shapes), key=lambda e: _ITEMSIZE.get(e, 0), default=None)
            key = dtype_key(elem) if elem else None
            if key is None:
                unknown.add(str(elem))
                continue
            flops = _compute_flops(ins, shapes)
            if flops is None:
                shapeless += 1
                flops = 0.0
            compute[key] = compute.get(key, 0.0) + flops
            if key == "fp32" and _default_precision(ins):
                tf32 += flops
        root = next((ins for ins in body if ins.root), body[-1] if body else None)
        if entry and root is not None:
            outputs = tuple(k for k in (dtype_key(e) for e, _ in _arrays(root.type)) if k)
    return HloFacts(
        partitions=int(parts.group(1)) if parts else 1, replicas=int(reps.group(1)) if reps else 1,
        compute=compute, tf32_eligible=tf32, unknown_compute=tuple(sorted(unknown)), shapeless_compute=shapeless,
        output_dtypes=outputs, custom_calls=calls, uncounted=tuple(sorted(set(uncounted))),
        cost_estimates=tuple(estimates),
    )


def _estimate(text: str) -> dict[str, float]:
    try:
        data: Any = json.loads(text)
    except ValueError:
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))} if isinstance(data, dict) else {}
