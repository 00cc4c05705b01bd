"""Before recording, say what would come out empty or wrong instead of silently dropping annotators.

Isaac Sim's recorder removes semantic annotators on an unlabeled stage with one console line and skips
render products whose camera is invalid. Here each such case is an issue the front end shows: the GUI
asks, ``sdg-studio record --strict`` fails, the plain CLI prints it and records what it can.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from pxr import Usd, UsdGeom, UsdSkel

from omni.sdg_studio.core.annotators.formats import LABEL_ANNOTATORS
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.render_backend import AUTO_CAMERA, RenderProduct
from omni.sdg_studio.core.semantics.schema import direct_labels
from omni.sdg_studio.core.writers.base import AnnotatorRequest

#: Resolutions above this many pixels on a side may run out of memory (Isaac Sim warns above 8000).
MAX_RESOLUTION = 8192
LABEL_HINT = "label it first: sdg-studio label STAGE --rules RULES.yaml"


class IssueKind(str, Enum):
    """What a pre-record issue is about."""

    NOT_A_CAMERA = "not_a_camera"
    LARGE_RESOLUTION = "large_resolution"
    UNLABELED_STAGE = "unlabeled_stage"
    UNUSED_TAXONOMY = "unused_taxonomy"
    NO_SKELETON = "no_skeleton"
    UNSUPPORTED_ANNOTATOR = "unsupported_annotator"  # blocking: the backend cannot produce it


@dataclass(frozen=True)
class PrecheckIssue:
    """One thing that will be empty or wrong; ``render_product`` is set when that render product is skipped."""

    kind: IssueKind
    message: str
    hint: str = ""
    render_product: RenderProduct | None = None
    annotators: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class PrecheckError(SdgStudioError):
    """The recording cannot start (strict mode, or no render product left); lists every issue."""

    def __init__(self, headline: str, issues: Sequence[PrecheckIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n  ".join([headline, *(str(issue) for issue in issues)]))


@dataclass
class PrecheckReport:
    """Issues found, and the render products that can be recorded."""

    issues: list[PrecheckIssue] = field(default_factory=list)
    render_products: list[RenderProduct] = field(default_factory=list)

    def require(self, strict: bool) -> None:
        """Raise :class:`PrecheckError` if nothing can be recorded, or if ``strict`` and any issue was found."""
        if not self.render_products:
            raise PrecheckError("nothing to record: no render product has a valid camera", self.issues)
        blocking = [i for i in self.issues if i.kind is IssueKind.UNSUPPORTED_ANNOTATOR]
        if blocking:
            raise PrecheckError("the writer needs annotators this backend cannot produce", blocking)
        if strict and self.issues:
            raise PrecheckError(f"pre-record check found {len(self.issues)} issue(s) (--strict)", self.issues)


def stage_taxonomies(stage: Usd.Stage) -> set[str]:
    """Taxonomies (semantic types) any prim carries labels in, both schemas, instance proxies included."""
    found: set[str] = set()
    for prim in Usd.PrimRange.Stage(stage, Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)):
        found.update(taxonomy for taxonomy, labels in direct_labels(prim).items() if labels)
    return found


def _camera_issue(stage: Usd.Stage, product: RenderProduct) -> PrecheckIssue | None:
    if product.camera == AUTO_CAMERA:
        return None
    prim = stage.GetPrimAtPath(product.camera) if product.camera.startswith("/") else Usd.Prim()
    if prim and prim.IsA(UsdGeom.Camera):
        return None
    if not prim:
        what = "no prim at this path"
        if product.camera.startswith("/OmniverseKit_"):
            what += " (Kit's viewport cameras exist only inside Kit)"
    else:
        what = f"a {prim.GetTypeName() or 'typeless prim'}, not a Camera"
    cameras = [str(p.GetPath()) for p in stage.Traverse() if p.IsA(UsdGeom.Camera)]
    hint = f"cameras on this stage: {', '.join(cameras)}" if cameras else "this stage has no camera"
    return PrecheckIssue(
        IssueKind.NOT_A_CAMERA, f"render product {product.camera}: {what}; it is skipped", hint, product
    )


def precheck(
    stage: Usd.Stage,
    render_products: Sequence[RenderProduct],
    annotators: Iterable[AnnotatorRequest],
    supported: Collection[str] | None = None,
) -> PrecheckReport:
    """Check cameras, resolutions, labels for semantic annotators, skeletons for ``skeleton_data`` and,
    when ``supported`` is given, that the backend produces every annotator."""
    report = PrecheckReport()
    for product in render_products:
        issue = _camera_issue(stage, product)
        if issue is not None:
            report.issues.append(issue)
            continue
        report.render_products.append(product)
        if max(product.width, product.height) > MAX_RESOLUTION:
            report.issues.append(
                PrecheckIssue(
                    IssueKind.LARGE_RESOLUTION,
                    f"render product {product.camera}: {product.width}x{product.height} is over "
                    f"{MAX_RESOLUTION} pixels on a side and may run out of memory",
                    "lower the resolution",
                )
            )
    requests = list(annotators)
    if supported is not None:
        report.issues.extend(_unsupported_issues(requests, supported))
    report.issues.extend(_label_issues(stage, [r for r in requests if r.name in LABEL_ANNOTATORS]))
    if any(r.name == "skeleton_data" for r in requests) and not any(p.IsA(UsdSkel.Skeleton) for p in stage.Traverse()):
        report.issues.append(
            PrecheckIssue(
                IssueKind.NO_SKELETON,
                "skeleton_data is on but the stage has no UsdSkel.Skeleton, so it will be empty",
                "turn skeleton_data off",
                annotators=("skeleton_data",),
            )
        )
    return report


def _unsupported_issues(requests: Sequence[AnnotatorRequest], supported: Collection[str]) -> list[PrecheckIssue]:
    """The annotators the backend cannot produce (one issue naming them all)."""
    missing = tuple(dict.fromkeys(r.name for r in requests if r.name not in supported))
    if not missing:
        return []
    return [
        PrecheckIssue(
            IssueKind.UNSUPPORTED_ANNOTATOR,
            f"{', '.join(missing)}: not produced by this backend",
            f"turn {'it' if len(missing) == 1 else 'them'} off; available: {', '.join(supported)}",
            annotators=missing,
        )
    ]


def _label_issues(stage: Usd.Stage, semantic: Sequence[AnnotatorRequest]) -> list[PrecheckIssue]:
    """Semantic annotators that will be empty: no labels on the stage, or none of a taxonomy they read."""
    if not semantic:
        return []
    used = stage_taxonomies(stage)
    if not used:
        names = tuple(dict.fromkeys(r.name for r in semantic))
        return [
            PrecheckIssue(
                IssueKind.UNLABELED_STAGE,
                f"no prim on the stage carries semantic labels, so {', '.join(names)} will be empty",
                LABEL_HINT,
                annotators=names,
            )
        ]
    # An annotator takes labels from any of its semantic types: it is empty only when none is used.
    by_types: dict[tuple[str, ...], list[str]] = {}
    for request in semantic:
        if request.semantic_types and not used.intersection(request.semantic_types):
            by_types.setdefault(tuple(request.semantic_types), []).append(request.name)
    issues = []
    for types, names in by_types.items():
        affected = tuple(dict.fromkeys(names))
        quoted = ", ".join(f"'{t}'" for t in types)
        issues.append(
            PrecheckIssue(
                IssueKind.UNUSED_TAXONOMY,
                f"no prim uses the {'taxonomy' if len(types) == 1 else 'taxonomies'} {quoted} "
                f"(the stage uses {', '.join(sorted(used))}), so {', '.join(affected)} will be empty",
                f"{LABEL_HINT}, or set semantic_types to one the stage uses",
                annotators=affected,
            )
        )
    return issues
