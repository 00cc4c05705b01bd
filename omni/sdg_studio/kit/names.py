"""Every name SDG Studio registers in Kit: window titles, menu paths, the action id.

``MenuHelperExtensionFull`` keeps one process-wide registry of window names and refuses (``carb.log_error``, no
menu entry) a name another extension registered first (omni.kit.menu.utils ``extension_window_helper_full.py``,
``__register_window``); Isaac Sim's menu layout also moves items by name into its own submenus
(``isaacsim.gui.menu`` ``tools_menu.py``: ``MenuLayout.Item(name="Synthetic Data Recorder")``, searched
everywhere by default). So every title here starts with "SDG Studio" and the menu entries use the titles:
tests/test_kit_contract.py fails when two of them are equal or one equals a title of Isaac Sim's SDG tools.
This module holds constants only (the pytest contract test reads it without Kit).
"""

MENU_ROOT = "Tools"
MENU_GROUP = "Tools/SDG Studio"

SEMANTIC_EDITOR_TITLE = "SDG Studio Semantic Schema Editor"
RECORDER_TITLE = "SDG Studio Synthetic Data Recorder"
VISUALIZER_TITLE = "SDG Studio Annotator Visualizer"
ISSUES_DIALOG_TITLE = "SDG Studio Before Recording"

RECORD_N_FRAMES_MENU = "Record N Frames"
RECORD_N_FRAMES_ACTION = "record_n_frames"
