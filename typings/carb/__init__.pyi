# The carb package itself: SDG Studio logs through Python `logging`, which Kit redirects to the Carbonite logger
# ("Python standard logging is redirected to Carbonite logger and it is recommended to use it instead":
# https://docs.omniverse.nvidia.com/kit/docs/kit-manual/latest/guide/logging.html), so no carb.log_* is called.
# Submodules used: carb.eventdispatcher, carb.settings, carb.tokens.
