# omni.ui subset. Signatures: https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui.html and usage in
# IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py
# (ui.Window, window.frame, ui.VStack(spacing=), ui.Label(text, height=, alignment=, tooltip=)),
# IS:source/extensions/isaacsim.asset.transformer.ui/isaacsim/asset/transformer/ui/window.py (ui.Label(word_wrap=True)),
# IS:source/extensions/isaacsim.gui.components/isaacsim/gui/components/element_wrappers/ui_widget_wrappers.py
# (ui.Alignment.LEFT_TOP).
# Widths and heights are omni.ui `Length`s: a number (pixels), ui.Pixel, ui.Percent or ui.Fraction, never None
# (https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.Length.html: constructed from a float
# or an int only; https://docs.omniverse.nvidia.com/kit/docs/omni.kit.documentation.ui.style/latest/units.html:
# "If a number is not specified to be a certain unit, it is Pixel"; Fraction shares the parent's free space).
# So no `width=None` here: tests/test_kit_contract.py runs pyright on a `width=None` call and expects an error.
# Isaac Sim 5.1 uses the same widgets (IS@5.1 files): ui.Frame(build_fn=) isaacsim.gui.components element_wrappers/
# ui_widget_wrappers.py; ui.ComboBox, add_end_edit_fn isaacsim.app.selector selector_window.py; ui.FloatField,
# ui.ProgressBar isaacsim.asset.importer.urdf python/impl/ui/ui_utils.py; ui.ImageWithProvider isaacsim.asset.browser
# delegate.py; ui.ByteImageProvider isaacsim.asset.gen.omap.ui extension.py; ui.Workspace.get_window isaacsim.app.selector
# create_selector.py; ui.Fraction isaacsim.asset.gen.conveyor.ui impl/preferences.py; set_computed_content_size_changed_fn
# isaacsim.asset.browser prop_property_delegate.py; identifier= isaacsim.gui.property namespace.py; CheckBox, IntField,
# StringField, CollapsableFrame isaacsim.replicator.synthetic_recorder synthetic_recorder_window.py.
from collections.abc import Callable, Sequence
from typing import Any

from typing_extensions import Self

class Length:
    def __init__(self, value: float) -> None: ...

class Pixel(Length): ...
class Percent(Length): ...
class Fraction(Length): ...

class Alignment:
    CENTER_TOP: Alignment
    LEFT_TOP: Alignment
    LEFT_CENTER: Alignment
    CENTER: Alignment
    RIGHT_CENTER: Alignment

class Widget:
    visible: bool
    enabled: bool
    # https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.Widget.html (computed_width /
    # computed_height; set_computed_content_size_changed_fn used in
    # IS:source/extensions/isaacsim.examples.browser/isaacsim/examples/browser/property_delegate.py).
    @property
    def computed_width(self) -> float: ...
    @property
    def computed_height(self) -> float: ...
    def set_computed_content_size_changed_fn(self, fn: Callable[[], None]) -> None: ...
    def destroy(self) -> None: ...

class AbstractValueModel:
    # https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.AbstractValueModel.html; usage
    # IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py
    # (model.as_int / as_bool / as_string, set_value, add_value_changed_fn(fn(model))).
    @property
    def as_int(self) -> int: ...
    @property
    def as_float(self) -> float: ...
    @property
    def as_bool(self) -> bool: ...
    @property
    def as_string(self) -> str: ...
    def get_value_as_int(self) -> int: ...
    def set_value(self, value: Any) -> None: ...
    def add_value_changed_fn(self, fn: Callable[[AbstractValueModel], None]) -> int: ...
    # https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.AbstractValueModel.html (add_end_edit_fn);
    # usage IS:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/preferences.py
    # (widget.model.add_end_edit_fn(lambda a: a.get_value_as_string())): called when editing ends (Enter, focus loss).
    def get_value_as_string(self) -> str: ...
    def add_end_edit_fn(self, fn: Callable[[AbstractValueModel], None]) -> int: ...

class AbstractItem: ...

class AbstractItemModel:
    # https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.AbstractItemModel.html; ComboBox usage
    # IS:source/extensions/isaacsim.gui.property/isaacsim/gui/property/robot_schema.py
    # (combo.model.add_item_changed_fn(lambda m, _: m.get_item_value_model().get_value_as_int())).
    def get_item_value_model(self, item: AbstractItem | None = None, column_id: int = 0) -> AbstractValueModel: ...
    def add_item_changed_fn(self, fn: Callable[[AbstractItemModel, AbstractItem | None], None]) -> int: ...

class Container(Widget):
    def __enter__(self) -> Self: ...
    def __exit__(self, *args: Any) -> None: ...

class Frame(Container):
    # https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.Frame.html (build_fn, rebuild);
    # usage IS:source/extensions/isaacsim.gui.property/isaacsim/gui/property/robot_schema.py (ui.Frame(height=0, build_fn=...)).
    def __init__(
        self, *, build_fn: Callable[[], None] | None = None, height: float | Length = ..., width: float | Length = ...
    ) -> None: ...
    def rebuild(self) -> None: ...

class ScrollingFrame(Frame):
    # IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py (ui.ScrollingFrame()).
    def __init__(self, *, height: float | Length = ...) -> None: ...

class CollapsableFrame(Frame):
    # IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py
    # (ui.CollapsableFrame(title, height=0, collapsed=...)); used as a context manager in
    # IS:source/extensions/isaacsim.asset.transformer.ui/isaacsim/asset/transformer/ui/window.py
    # (with ui.CollapsableFrame("Profile Settings", collapsed=True, height=0):).
    def __init__(self, title: str = "", *, height: float | Length = ..., collapsed: bool = False) -> None: ...

class Stack(Container): ...

class VStack(Stack):
    def __init__(self, *, spacing: float = 0, height: float | Length = ...) -> None: ...

class HStack(Stack):
    def __init__(self, *, spacing: float = 0, height: float | Length = ...) -> None: ...

class Label(Widget):
    # style={"color": 0xAABBGGRR}: IS:source/extensions/isaacsim.gui.menu/isaacsim/gui/menu/asset_check.py and
    # IS@5.1:source/extensions/isaacsim.asset.browser/isaacsim/asset/browser/options_menu.py
    # (ui.Label("Warning: ...", style={"color": 0xFF00FFFF})); a style is a dict of style keys
    # (https://docs.omniverse.nvidia.com/kit/docs/omni.kit.documentation.ui.style/latest/styling.html).
    text: str
    def __init__(
        self,
        text: str,
        *,
        height: float | Length = ...,
        width: float | Length = ...,
        alignment: Alignment = ...,
        word_wrap: bool = False,
        tooltip: str = "",
        style: dict[str, Any] = ...,
    ) -> None: ...

class Spacer(Widget):
    # IS:.../synthetic_recorder_window.py (ui.Spacer(width=10)).
    def __init__(self, *, width: float | Length = ..., height: float | Length = ...) -> None: ...

class Button(Widget):
    # IS:.../synthetic_recorder_window.py (ui.Button(text, clicked_fn=..., width=, height=, tooltip=)).
    text: str
    def __init__(
        self,
        text: str = "",
        *,
        clicked_fn: Callable[[], None] | None = None,
        width: float | Length = ...,
        height: float | Length = ...,
        tooltip: str = "",
    ) -> None: ...

class CheckBox(Widget):
    # IS:.../synthetic_recorder_window.py (ui.CheckBox(width=10, height=0).model).
    def __init__(self, *, width: float | Length = ..., height: float | Length = ..., tooltip: str = "") -> None: ...
    @property
    def model(self) -> AbstractValueModel: ...

class IntField(Widget):
    # IS:.../synthetic_recorder_window.py (ui.IntField(); field.model.add_value_changed_fn(lambda m: m.as_int)).
    def __init__(self, *, width: float | Length = ..., height: float | Length = ..., tooltip: str = "") -> None: ...
    @property
    def model(self) -> AbstractValueModel: ...

class FloatField(Widget):
    # IS:source/extensions/isaacsim.replicator.grasping.ui/isaacsim/replicator/grasping/ui/grasping_window.py (ui.FloatField()).
    def __init__(self, *, width: float | Length = ..., height: float | Length = ..., tooltip: str = "") -> None: ...
    @property
    def model(self) -> AbstractValueModel: ...

class StringField(Widget):
    # IS:.../synthetic_recorder_window.py (ui.StringField(width=200).model, ui.StringField(tooltip=...).model,
    # model.as_string, set_value, add_value_changed_fn); ui.StringField(height=20) in
    # IS:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/preferences.py;
    # `identifier` finds it in tests: IS:source/extensions/isaacsim.asset.importer.mjcf.ui/python/tests/test_ui.py
    # (StringField[*].identifier=='...').
    def __init__(
        self,
        *,
        width: float | Length = ...,
        height: float | Length = ...,
        tooltip: str = "",
        read_only: bool = False,
        identifier: str = "",
    ) -> None: ...
    @property
    def model(self) -> AbstractValueModel: ...

class ProgressBar(Widget):
    # IS:source/extensions/isaacsim.gui.components/isaacsim/gui/components/ui_utils.py (model = ui.ProgressBar().model;
    # model.set_value(fraction in 0..1)); https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.ProgressBar.html
    def __init__(self, *, width: float | Length = ..., height: float | Length = ...) -> None: ...
    @property
    def model(self) -> AbstractValueModel: ...

class ComboBox(Widget):
    # IS:source/extensions/isaacsim.gui.property/isaacsim/gui/property/robot_schema.py (ui.ComboBox(idx, *tokens, height=22)).
    # identifier=: IS:source/extensions/isaacsim.gui.components/isaacsim/gui/components/ui_utils.py (dropdown_builder
    # passes identifier= to ui.ComboBox; its test IS:source/extensions/isaacsim.asset.importer.mjcf.ui/python/tests/
    # test_ui.py finds ComboBox[*].identifier=='mjcf_collision_type' and picks an item with
    # model.get_item_value_model(None, 0).set_value(2)). `identifier` is a keyword of every omni.ui Widget; at 5.1 no
    # ComboBox in IS@5.1 passes it (IS@5.1:source/extensions/isaacsim.gui.property/isaacsim/gui/property/namespace.py
    # passes it to a ui.Button), so that line is unchecked for ComboBox (only our omni.kit.test tests use it).
    def __init__(
        self,
        index: int,
        *items: str,
        width: float | Length = ...,
        height: float | Length = ...,
        identifier: str = "",
    ) -> None: ...
    @property
    def model(self) -> AbstractItemModel: ...

class ImageProvider: ...

class ByteImageProvider(ImageProvider):
    # https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.ByteImageProvider.html
    # (set_data_array(self, arg0: numpy.ndarray[uint8], arg1: List[int]) with sizes [width, height]); constructed
    # bare in IS:source/extensions/isaacsim.asset.importer.heightmap/isaacsim/asset/importer/heightmap/extension.py.
    def __init__(self) -> None: ...
    def set_data_array(self, data: Any, sizes: Sequence[int]) -> None: ...

class IwpFillPolicy:
    # https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.IwpFillPolicy.html
    IWP_STRETCH: IwpFillPolicy
    IWP_PRESERVE_ASPECT_FIT: IwpFillPolicy
    IWP_PRESERVE_ASPECT_CROP: IwpFillPolicy

class ImageWithProvider(Widget):
    # https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui/omni.ui.ImageWithProvider.html
    # (ImageWithProvider(provider, **kwargs) with alignment / fill_policy); usage
    # IS:source/extensions/isaacsim.asset.importer.heightmap/isaacsim/asset/importer/heightmap/extension.py.
    def __init__(
        self,
        provider: ImageProvider,
        *,
        fill_policy: IwpFillPolicy = ...,
        alignment: Alignment = ...,
        width: float | Length = ...,
        height: float | Length = ...,
    ) -> None: ...

class Workspace:
    # IS:source/extensions/isaacsim.app.about/isaacsim/app/about/tests/test_window_about.py (ui.Workspace.get_window("About")).
    @staticmethod
    def get_window(title: str) -> Window | None: ...

class Window:
    title: str
    visible: bool
    @property
    def frame(self) -> Frame: ...
    def __init__(self, title: str, *, width: int = 400, height: int = 600) -> None: ...
    def destroy(self) -> None: ...
