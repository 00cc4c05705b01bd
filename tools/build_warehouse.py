"""Generate the sample warehouse scene used by SDG Studio (``data/scenes/warehouse.usda``).

The scene is built only from USD prims (meters, Z-up) and is deterministic: running the
script twice writes the same bytes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdSemantics, UsdShade, Vt

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "data" / "scenes" / "warehouse.usda"

Vec3 = tuple[float, float, float]
MeshData = tuple[np.ndarray, np.ndarray, np.ndarray]

FLOOR_SIZE = (20.0, 14.0)
WALL_HEIGHT = 5.0
WALL_THICKNESS = 0.2
RACK_LENGTH, RACK_DEPTH = 4.0, 1.0
SHELF_HEIGHTS = (0.15, 1.15, 2.15)
SHELF_THICKNESS = 0.04
PALLET_SIZE = (1.2, 0.8, 0.144)
BOX_SIZES: dict[str, Vec3] = {
    "A": (0.4, 0.3, 0.3),
    "B": (0.58, 0.4, 0.4),
    "C": (0.3, 0.3, 0.2),
    "D": (0.5, 0.5, 0.5),
}
BOX_COLORS: dict[str, Vec3] = {
    "A": (0.72, 0.55, 0.35),
    "B": (0.66, 0.49, 0.31),
    "C": (0.78, 0.62, 0.42),
    "D": (0.60, 0.45, 0.28),
}

CONCRETE = (0.45, 0.45, 0.43)
WALL = (0.78, 0.76, 0.70)
RACK_BLUE = (0.12, 0.25, 0.60)
RACK_ORANGE = (0.85, 0.45, 0.10)
WOOD = (0.60, 0.45, 0.28)
CONE_ORANGE = (0.95, 0.35, 0.05)
RUBBER = (0.05, 0.05, 0.05)
DARK_STEEL = (0.18, 0.18, 0.20)
STEEL = (0.60, 0.62, 0.65)
FORKLIFT_YELLOW = (0.95, 0.75, 0.05)

CAMERAS: dict[str, tuple[Vec3, Vec3, float]] = {
    # name: (eye, target, focal length in mm)
    "TopCam": ((0.0, -6.0, 22.0), (0.0, 0.0, 0.0), 18.0),
    "DriverCam": ((-7.3, 0.5, 1.85), (9.0, 0.5, 1.2), 20.0),
    "PalletCam": ((1.6, -0.6, 0.9), (5.0, -3.8, 0.35), 24.0),
}


def place(xformable: UsdGeom.Xformable, translate: Vec3, rotate_z: float = 0.0, scale: Vec3 | None = None) -> None:
    """Author translate / rotateZ / scale ops (only the non-trivial ones)."""
    if translate != (0.0, 0.0, 0.0):
        xformable.AddTranslateOp().Set(Gf.Vec3d(*translate))
    if rotate_z:
        xformable.AddRotateZOp().Set(rotate_z)
    if scale is not None:
        xformable.AddScaleOp().Set(Gf.Vec3f(*scale))


def xform(stage: Usd.Stage, path: str, translate: Vec3 = (0.0, 0.0, 0.0), rotate_z: float = 0.0) -> Usd.Prim:
    """Define an Xform prim."""
    prim = UsdGeom.Xform.Define(stage, path)
    place(prim, translate, rotate_z)
    return prim.GetPrim()


def finish_gprim(gprim: UsdGeom.Gprim, rgb: Vec3) -> None:
    """Set the display color and author the extent of a gprim."""
    gprim.CreateDisplayColorAttr([Gf.Vec3f(*rgb)])
    extent = UsdGeom.Boundable.ComputeExtentFromPlugins(gprim, Usd.TimeCode.Default())
    gprim.CreateExtentAttr(extent)


def box(stage: Usd.Stage, path: str, size: Vec3, center: Vec3, rgb: Vec3, rotate_z: float = 0.0) -> UsdGeom.Cube:
    """Define a Cube (default size 2) scaled to ``size`` and centered at ``center``."""
    cube = UsdGeom.Cube.Define(stage, path)
    place(cube, center, rotate_z, (size[0] / 2, size[1] / 2, size[2] / 2))
    finish_gprim(cube, rgb)
    return cube


def cylinder(
    stage: Usd.Stage, path: str, radius: float, height: float, axis: str, center: Vec3, rgb: Vec3
) -> UsdGeom.Cylinder:
    """Define a Cylinder along ``axis``."""
    cyl = UsdGeom.Cylinder.Define(stage, path)
    cyl.CreateRadiusAttr(radius)
    cyl.CreateHeightAttr(height)
    cyl.CreateAxisAttr(axis)
    place(cyl, center)
    finish_gprim(cyl, rgb)
    return cyl


def mesh(stage: Usd.Stage, path: str, data: MeshData, translate: Vec3, rgb: Vec3) -> UsdGeom.Mesh:
    """Define a polygonal Mesh from (points, faceVertexCounts, faceVertexIndices)."""
    points, counts, indices = data
    m = UsdGeom.Mesh.Define(stage, path)
    m.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(np.round(points, 5).astype(np.float32)))
    m.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(counts.astype(np.int32)))
    m.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(indices.astype(np.int32)))
    m.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    place(m, translate)
    finish_gprim(m, rgb)
    return m


def floor_mesh(size: tuple[float, float], cell: float) -> MeshData:
    """Triangulated grid in the XY plane, centered at the origin, normals +Z."""
    nx, ny = round(size[0] / cell), round(size[1] / cell)
    xs = np.linspace(-size[0] / 2, size[0] / 2, nx + 1)
    ys = np.linspace(-size[1] / 2, size[1] / 2, ny + 1)
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size)], axis=1)
    j, i = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    a = (j * (nx + 1) + i).ravel()
    b, c, d = a + 1, a + nx + 2, a + nx + 1
    tris = np.concatenate([np.stack([a, b, c], axis=1), np.stack([a, c, d], axis=1)], axis=1)
    return points, np.full(2 * a.size, 3), tris.ravel()


def box_mesh(size: Vec3, step: float) -> MeshData:
    """Closed quad box of ``size`` centered at the origin, each axis split into cells of about ``step``."""
    half = np.asarray(size) / 2
    cells = [max(1, round(s / step)) for s in size]
    # (origin corner, u axis, v axis) with u x v pointing outward.
    faces = [
        ((-1, -1, 1), 0, 1),
        ((-1, -1, -1), 1, 0),
        ((1, -1, -1), 1, 2),
        ((-1, -1, -1), 2, 1),
        ((-1, 1, -1), 2, 0),
        ((-1, -1, -1), 0, 2),
    ]
    all_points, all_quads = [], []
    for corner, u, v in faces:
        nu, nv = cells[u], cells[v]
        su, sv = np.meshgrid(np.linspace(0, 1, nu + 1), np.linspace(0, 1, nv + 1), indexing="ij")
        pts = np.tile(np.asarray(corner) * half, (su.size, 1))
        pts[:, u] += su.ravel() * size[u]
        pts[:, v] += sv.ravel() * size[v]
        iu, iv = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
        a = (iu * (nv + 1) + iv).ravel()
        quads = np.stack([a, a + nv + 1, a + nv + 2, a + 1], axis=1)
        all_quads.append(quads + sum(len(p) for p in all_points))
        all_points.append(pts)
    points, inverse = np.unique(np.round(np.concatenate(all_points), 6), axis=0, return_inverse=True)
    quads = inverse.reshape(-1)[np.concatenate(all_quads)]
    return points, np.full(len(quads), 4), quads.ravel()


def mattress_mesh(size: Vec3, step: float, puff: float) -> MeshData:
    """Subdivided box whose top bulges upward like a mattress; base at z = 0."""
    points, counts, indices = box_mesh(size, step)
    hx, hy, hz = (s / 2 for s in size)
    bulge = (1 - (points[:, 0] / hx) ** 2) * (1 - (points[:, 1] / hy) ** 2) * (points[:, 2] + hz) / (2 * hz)
    points[:, 2] += hz + puff * bulge
    return points, counts, indices


def barrel_mesh(radius: float, height: float, segments: int, rings: int) -> MeshData:
    """Bulged barrel: quad side bands plus triangle-fan caps; base at z = 0."""
    theta = np.arange(segments) * 2 * np.pi / segments
    z = np.linspace(0, height, rings + 1)
    r = radius * (1 + 0.08 * np.sin(np.pi * z / height))
    ring_pts = np.stack(
        [np.outer(r, np.cos(theta)), np.outer(r, np.sin(theta)), np.repeat(z[:, None], segments, 1)], axis=2
    ).reshape(-1, 3)
    bottom, top = len(ring_pts), len(ring_pts) + 1
    points = np.concatenate([ring_pts, [[0.0, 0.0, 0.0], [0.0, 0.0, height]]])
    k, i = np.meshgrid(np.arange(rings), np.arange(segments), indexing="ij")
    a, b = (k * segments + i).ravel(), (k * segments + (i + 1) % segments).ravel()
    quads = np.stack([a, b, b + segments, a + segments], axis=1).ravel()
    i = np.arange(segments)
    ip = (i + 1) % segments
    top_ring = rings * segments
    top_fan = np.stack([np.full(segments, top), top_ring + i, top_ring + ip], axis=1).ravel()
    bottom_fan = np.stack([np.full(segments, bottom), ip, i], axis=1).ravel()
    counts = np.concatenate([np.full(rings * segments, 4), np.full(2 * segments, 3)])
    return points, counts, np.concatenate([quads, top_fan, bottom_fan])


def wedge_mesh(length: float, width: float, height: float) -> MeshData:
    """Ramp wedge rising along +X from 0 to ``height``: three quads and two triangles."""
    w = width / 2
    points = np.array(
        [[0, -w, 0], [length, -w, 0], [length, w, 0], [0, w, 0], [length, -w, height], [length, w, height]]
    )
    faces = [[0, 3, 2, 1], [0, 4, 5, 3], [1, 2, 5, 4], [0, 1, 4], [3, 5, 2]]
    return points, np.array([len(f) for f in faces]), np.concatenate(faces)


def make_material(stage: Usd.Stage, path: str, rgb: Vec3, roughness: float, metallic: float = 0.0) -> UsdShade.Material:
    """UsdPreviewSurface material with a constant diffuse color."""
    material = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, f"{path}/PreviewSurface")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*rgb))
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(roughness)
    shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(metallic)
    material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    return material


def bind(prim: Usd.Prim, material: UsdShade.Material) -> None:
    """Bind ``material`` to ``prim`` (and, by inheritance, its descendants)."""
    UsdShade.MaterialBindingAPI.Apply(prim).Bind(material)


def label(prim: Usd.Prim, name: str) -> None:
    """Label with the UsdSemantics schema (``semantics:labels:class``)."""
    UsdSemantics.LabelsAPI.Apply(prim, "class").CreateLabelsAttr([name])


def legacy_label(prim: Usd.Prim, name: str) -> None:
    """Label with the legacy Isaac Sim SemanticsAPI, authored raw (usd-core does not register it)."""
    prim.AddAppliedSchema("SemanticsAPI:Semantics")
    string = Sdf.ValueTypeNames.String
    prim.CreateAttribute("semantic:Semantics:params:semanticType", string, False).Set("class")
    prim.CreateAttribute("semantic:Semantics:params:semanticData", string, False).Set(name)


def look_at(eye: Vec3, target: Vec3, up: Vec3 = (0.0, 0.0, 1.0)) -> Gf.Matrix4d:
    """Camera-to-world matrix whose local -Z points from ``eye`` at ``target`` and local +Y is up."""
    forward = np.subtract(target, eye)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-6:
        raise ValueError("view direction is parallel to the up vector")
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, forward)
    rows = [[*right, 0.0], [*cam_up, 0.0], [*(-forward), 0.0], [*eye, 1.0]]
    return Gf.Matrix4d([[float(v) + 0.0 for v in row] for row in rows])  # + 0.0 turns -0.0 into 0.0


def build_environment(stage: Usd.Stage, concrete: UsdShade.Material) -> None:
    """Floor, walls, loading ramp and a steel floor mat."""
    xform(stage, "/World/Environment")
    floor = mesh(stage, "/World/Environment/SM_Floor_01", floor_mesh(FLOOR_SIZE, 1.0), (0, 0, 0), CONCRETE)
    bind(floor.GetPrim(), concrete)
    fx, fy = FLOOR_SIZE[0] / 2, FLOOR_SIZE[1] / 2
    t, h = WALL_THICKNESS, WALL_HEIGHT
    walls = {
        "SM_Wall_A_01": ((2 * fx + 2 * t, t, h), (0.0, fy + t / 2, h / 2)),
        "SM_Wall_A_02": ((2 * fx + 2 * t, t, h), (0.0, -fy - t / 2, h / 2)),
        "SM_Wall_B_01": ((t, 2 * fy, h), (fx + t / 2, 0.0, h / 2)),
        "SM_Wall_B_02": ((t, 2 * fy, h), (-fx - t / 2, 0.0, h / 2)),
    }
    for name, (size, center) in walls.items():
        box(stage, f"/World/Environment/{name}", size, center, WALL)
    mesh(stage, "/World/Environment/SM_Ramp_01", wedge_mesh(2.0, 1.5, 0.4), (7.5, 2.75, 0.0), STEEL)
    box(stage, "/World/Environment/SteelMat", (1.5, 1.0, 0.02), (-3.5, 2.5, 0.01), STEEL)


class CardBoxFactory:
    """Places cardboard boxes named ``SM_CardBox<variant>_NN``, numbered per variant."""

    def __init__(self, seed: int) -> None:
        self.counts: dict[str, int] = {}
        self.rng = np.random.default_rng(seed)

    def add(self, stage: Usd.Stage, parent: str, variant: str, x: float, y: float, z_base: float) -> Usd.Prim:
        """Place a cardboard box with its base at ``z_base`` and a small random yaw."""
        self.counts[variant] = self.counts.get(variant, 0) + 1
        size = BOX_SIZES[variant]
        yaw = round(float(self.rng.uniform(-3.0, 3.0)), 1)
        path = f"{parent}/SM_CardBox{variant}_{self.counts[variant]:02d}"
        return box(stage, path, size, (x, y, z_base + size[2] / 2), BOX_COLORS[variant], yaw).GetPrim()


def build_racks(stage: Usd.Stage, boxes: CardBoxFactory) -> dict[str, Usd.Prim]:
    """Four shelving racks with some boxes on their shelves; returns the shelf boxes by name."""
    xform(stage, "/World/Racks")
    origins = [(-6.0, 5.5), (-1.5, 5.5), (3.0, 5.5), (-6.0, -5.5)]
    post_top = SHELF_HEIGHTS[-1] + 0.25
    post_x = (-RACK_LENGTH / 2 + 0.04, 0.0, RACK_LENGTH / 2 - 0.04)
    post_y = (-RACK_DEPTH / 2 + 0.04, RACK_DEPTH / 2 - 0.04)
    # rack index -> [(shelf index, box variant, local x)]
    loads = {
        0: [(0, "A", -1.2), (0, "A", -0.7), (1, "D", 1.0)],
        1: [(0, "B", 0.9), (2, "C", -1.0), (2, "C", -0.6)],
        3: [(1, "D", -1.0), (2, "A", 1.2)],
    }
    placed: dict[str, Usd.Prim] = {}
    for r, (ox, oy) in enumerate(origins):
        rack = f"/World/Racks/SM_RackShelf_{r + 1:02d}"
        xform(stage, rack, (ox, oy, 0.0))
        posts = [(x, y) for x in post_x for y in post_y]
        for p, (x, y) in enumerate(posts):
            box(stage, f"{rack}/SM_RackPost_{p + 1:02d}", (0.08, 0.08, post_top), (x, y, post_top / 2), RACK_BLUE)
        for s, z in enumerate(SHELF_HEIGHTS):
            size = (RACK_LENGTH, RACK_DEPTH, SHELF_THICKNESS)
            box(stage, f"{rack}/SM_RackBoard_{s + 1:02d}", size, (0.0, 0.0, z), RACK_ORANGE)
        for shelf, variant, x in loads.get(r, []):
            prim = boxes.add(stage, rack, variant, x, 0.0, SHELF_HEIGHTS[shelf] + SHELF_THICKNESS / 2)
            placed[prim.GetName()] = prim
    return placed


def build_pallets(stage: Usd.Stage, boxes: CardBoxFactory, wood: UsdShade.Material) -> dict[str, Usd.Prim]:
    """Six wooden pallets, most loaded with cardboard boxes; returns pallets and boxes by name."""
    xform(stage, "/World/Pallets")
    length, width, height = PALLET_SIZE
    board = 0.022
    origins = [(3.5, -3.0), (5.0, -3.0), (6.5, -3.0), (3.5, -4.6), (5.0, -4.6), (6.5, -4.6)]
    a_top, d_top = BOX_SIZES["A"][2], BOX_SIZES["D"][2]
    # pallet index -> [(box variant, local x, local y, base height above the deck)]
    loads = {
        0: [
            ("A", -0.22, -0.17, 0.0),
            ("A", 0.22, -0.17, 0.0),
            ("A", -0.22, 0.17, 0.0),
            ("A", 0.22, 0.17, 0.0),
            ("A", 0.0, 0.0, a_top),
        ],
        1: [("B", -0.31, 0.0, 0.0), ("B", 0.31, 0.0, 0.0)],
        2: [("D", 0.0, 0.0, 0.0), ("C", 0.0, 0.0, d_top)],
        3: [("C", -0.2, -0.2, 0.0), ("C", 0.2, -0.2, 0.0), ("C", -0.2, 0.2, 0.0), ("C", 0.2, 0.2, 0.0)],
        4: [("D", -0.3, 0.0, 0.0), ("D", 0.3, 0.0, 0.0)],
    }
    placed: dict[str, Usd.Prim] = {}
    for n, (ox, oy) in enumerate(origins):
        path = f"/World/Pallets/SM_PaletteA_{n + 1:02d}"
        pallet = xform(stage, path, (ox, oy, 0.0))
        bind(pallet, wood)
        placed[pallet.GetName()] = pallet
        box(stage, f"{path}/Deck", (length, width, board), (0.0, 0.0, height - board / 2), WOOD)
        for k, y in enumerate((-0.35, 0.0, 0.35)):
            size = (length, 0.1, height - 2 * board)
            box(stage, f"{path}/Stringer_{k + 1:02d}", size, (0.0, y, height / 2), WOOD)
        for k, x in enumerate((-0.55, 0.0, 0.55)):
            box(stage, f"{path}/BottomBoard_{k + 1:02d}", (0.1, width, board), (x, 0.0, board / 2), WOOD)
        for variant, x, y, z in loads.get(n, []):
            prim = boxes.add(stage, "/World/Pallets", variant, ox + x, oy + y, height + z)
            placed[prim.GetName()] = prim
    return placed


def build_props(stage: Usd.Stage) -> dict[str, Usd.Prim]:
    """Traffic cones, a barrel and a mattress; returns the cones by name."""
    xform(stage, "/World/Props")
    cones: dict[str, Usd.Prim] = {}
    spots = [(0.0, 1.8), (1.0, 1.8), (2.0, 1.8), (6.8, 2.75)]
    for n, (x, y) in enumerate(spots):
        name = "S_TrafficCone" if n == 0 else f"S_TrafficCone_{n:02d}"
        root = xform(stage, f"/World/Props/{name}", (x, y, 0.0))
        box(stage, f"{root.GetPath()}/Base", (0.38, 0.38, 0.03), (0.0, 0.0, 0.015), RUBBER)
        cone = UsdGeom.Cone.Define(stage, f"{root.GetPath()}/Body")
        cone.CreateRadiusAttr(0.16)
        cone.CreateHeightAttr(0.68)
        cone.CreateAxisAttr(UsdGeom.Tokens.z)
        place(cone, (0.0, 0.0, 0.03 + 0.34))
        finish_gprim(cone, CONE_ORANGE)
        cones[name] = root
    mesh(stage, "/World/Props/SM_Barrel_01", barrel_mesh(0.3, 0.9, 24, 4), (-9.2, -6.2, 0.0), (0.10, 0.30, 0.65))
    mattress = mattress_mesh((1.9, 1.4, 0.22), 0.1, 0.04)
    mesh(stage, "/World/Props/Mattress_01", mattress, (-1.5, -5.6, 0.0), (0.90, 0.90, 0.95))
    return cones


def build_forklift(stage: Usd.Stage, paint: UsdShade.Material) -> Usd.Prim:
    """Forklift facing +X, assembled from Cubes and Cylinders."""
    root = xform(stage, "/World/Forklift", (-7.0, 0.5, 0.0))
    f = "/World/Forklift"
    body = box(stage, f"{f}/Body", (2.0, 1.1, 0.7), (0.0, 0.0, 0.65), FORKLIFT_YELLOW)
    counterweight = box(stage, f"{f}/Counterweight", (0.4, 1.1, 0.6), (-1.2, 0.0, 0.9), FORKLIFT_YELLOW)
    for part in (body, counterweight):
        bind(part.GetPrim(), paint)
    box(stage, f"{f}/Seat", (0.5, 0.5, 0.12), (-0.35, 0.0, 1.06), RUBBER)
    box(stage, f"{f}/SeatBack", (0.1, 0.5, 0.5), (-0.65, 0.0, 1.37), RUBBER)
    xform(stage, f"{f}/OverheadGuard")
    guard_posts = [(-0.9, -0.5), (-0.9, 0.5), (0.2, -0.5), (0.2, 0.5)]
    for k, (x, y) in enumerate(guard_posts):
        box(stage, f"{f}/OverheadGuard/Post_{k + 1:02d}", (0.06, 0.06, 1.2), (x, y, 1.6), DARK_STEEL)
    box(stage, f"{f}/OverheadGuard/Roof", (1.3, 1.1, 0.05), (-0.35, 0.0, 2.225), DARK_STEEL)
    xform(stage, f"{f}/Mast")
    for side, y in (("L", 0.4), ("R", -0.4)):
        box(stage, f"{f}/Mast/Upright_{side}", (0.1, 0.1, 2.4), (1.15, y, 1.25), DARK_STEEL)
    box(stage, f"{f}/Mast/CrossBar", (0.1, 0.9, 0.1), (1.15, 0.0, 2.4), DARK_STEEL)
    xform(stage, f"{f}/Forks")
    box(stage, f"{f}/Forks/Carriage", (0.06, 1.0, 0.5), (1.25, 0.0, 0.4), DARK_STEEL)
    for side, y in (("L", 0.3), ("R", -0.3)):
        box(stage, f"{f}/Forks/Fork_{side}", (1.1, 0.12, 0.05), (1.85, y, 0.1), STEEL)
    xform(stage, f"{f}/Wheels")
    for name, x, r in (("F", 0.7, 0.3), ("R", -0.8, 0.25)):
        for side, y in (("L", 0.62), ("R", -0.62)):
            cylinder(stage, f"{f}/Wheels/Wheel_{name}{side}", r, 0.22, UsdGeom.Tokens.y, (x, y, r), RUBBER)
    return root


def build_crates(stage: Usd.Stage) -> Usd.Prim:
    """Class prototype ``/Prototypes/SM_Crate`` and four instanceable references to it."""
    stage.CreateClassPrim("/Prototypes")
    proto = xform(stage, "/Prototypes/SM_Crate")
    box(stage, "/Prototypes/SM_Crate/Body", (0.6, 0.6, 0.5), (0.0, 0.0, 0.25), (0.30, 0.50, 0.25))
    lid = box_mesh((0.64, 0.64, 0.05), 1.0)
    mesh(stage, "/Prototypes/SM_Crate/Lid", lid, (0.0, 0.0, 0.525), (0.20, 0.35, 0.18))
    xform(stage, "/World/Crates")
    spots = [(7.6, 5.4, 0.0, 0.0), (8.4, 5.4, 0.0, 5.0), (7.6, 4.6, 0.0, -8.0), (7.6, 5.4, 0.55, 12.0)]
    for n, (x, y, z, yaw) in enumerate(spots):
        crate = xform(stage, f"/World/Crates/SM_Crate_{n + 1:02d}", (x, y, z), yaw)
        crate.GetReferences().AddInternalReference(proto.GetPath())
        crate.SetInstanceable(True)
    return proto


def build_bottles(stage: Usd.Stage) -> None:
    """PointInstancer with six bottles standing on the second shelf of rack 3."""
    shelf_top = SHELF_HEIGHTS[1] + SHELF_THICKNESS / 2
    instancer = UsdGeom.PointInstancer.Define(stage, "/World/Bottles")
    place(instancer, (3.0, 5.5, shelf_top))
    UsdGeom.Scope.Define(stage, "/World/Bottles/Prototypes")
    height = 0.25
    bottle_path = "/World/Bottles/Prototypes/SM_Bottle"
    bottle = cylinder(stage, bottle_path, 0.04, height, UsdGeom.Tokens.z, (0.0, 0.0, 0.0), (0.20, 0.60, 0.90))
    instancer.CreatePrototypesRel().SetTargets([bottle.GetPath()])
    positions = [Gf.Vec3f(-1.6 + 0.22 * k, 0.1 * (-1) ** k, height / 2) for k in range(6)]
    instancer.CreatePositionsAttr(positions)
    instancer.CreateProtoIndicesAttr([0] * len(positions))
    instancer.CreateExtentAttr(UsdGeom.Boundable.ComputeExtentFromPlugins(instancer, Usd.TimeCode.Default()))


def build_cameras(stage: Usd.Stage) -> None:
    """Three perspective cameras, each placed with a look-at transform."""
    xform(stage, "/World/Cameras")
    for name, (eye, target, focal) in CAMERAS.items():
        cam = UsdGeom.Camera.Define(stage, f"/World/Cameras/{name}")
        cam.AddTransformOp().Set(look_at(eye, target))
        cam.CreateFocalLengthAttr(focal)
        cam.CreateHorizontalApertureAttr(20.955)
        cam.CreateVerticalApertureAttr(15.2908)
        cam.CreateClippingRangeAttr(Gf.Vec2f(0.01, 1000.0))


def build_lights(stage: Usd.Stage) -> None:
    """An angled sun and a dome light."""
    xform(stage, "/World/Lights")
    sun = UsdLux.DistantLight.Define(stage, "/World/Lights/Sun")
    sun.CreateIntensityAttr(3000.0)
    sun.CreateAngleAttr(0.53)
    sun.AddRotateXYZOp().Set(Gf.Vec3f(45.0, 0.0, 30.0))
    dome = UsdLux.DomeLight.Define(stage, "/World/Lights/Dome")
    dome.CreateIntensityAttr(1000.0)


def build_stage() -> Usd.Stage:
    """Build the whole warehouse on an in-memory stage."""
    stage = Usd.Stage.CreateInMemory("warehouse.usda")
    stage.GetRootLayer().documentation = "SDG Studio sample warehouse, generated by tools/build_warehouse.py"
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    world = xform(stage, "/World")
    stage.SetDefaultPrim(world)

    xform(stage, "/World/Looks")
    concrete = make_material(stage, "/World/Looks/M_Concrete", CONCRETE, 0.9)
    paint = make_material(stage, "/World/Looks/M_ForkliftPaint", FORKLIFT_YELLOW, 0.4, 0.1)
    wood = make_material(stage, "/World/Looks/M_Wood", WOOD, 0.8)

    build_environment(stage, concrete)
    boxes = CardBoxFactory(seed=7)
    pallet_items = build_pallets(stage, boxes, wood)
    shelf_boxes = build_racks(stage, boxes)
    cones = build_props(stage)
    forklift = build_forklift(stage, paint)
    crate = build_crates(stage)
    build_bottles(stage)
    build_cameras(stage)
    build_lights(stage)

    label(pallet_items["SM_PaletteA_01"], "pallet")
    label(pallet_items["SM_PaletteA_02"], "pallet")
    label(forklift, "forklift")
    label(crate, "crate")
    legacy_label(pallet_items["SM_CardBoxA_01"], "cardbox")
    legacy_label(shelf_boxes["SM_CardBoxD_04"], "cardbox")
    legacy_label(cones["S_TrafficCone_01"], "traffic_cone")
    return stage


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, build the scene and write it as .usda text."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT, help="output .usda path")
    args = parser.parse_args(argv)
    stage = build_stage()  # keep the stage alive while its anonymous root layer is exported
    text = stage.GetRootLayer().ExportToString()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
