# IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder.py
# (timeline = omni.timeline.get_timeline_interface(); timeline.is_playing()).

class Timeline:
    def is_playing(self) -> bool: ...

def get_timeline_interface() -> Timeline: ...
