"""truth.py: the simulator's truth file (opendca-sim --truth), as the checks
against it read it (meters_check.py, alerts_check.py).

Truth(path).events: the JSON lines about devices, in order; the "stepped"
lines (when, on the clock, the simulator stepped its fleet to which
simulated time) are kept apart: a loaded simulator steps behind the clock,
and what it served at clock time t is as of served(t)."""
import bisect
import json


class Truth:
    def __init__(self, path):
        self.events = []
        self._now, self._at = [], []
        for line in open(path):
            e = json.loads(line)
            if e["event"] == "stepped":
                self._now.append(e["now"])
                self._at.append(e["sim_s"])
            else:
                self.events.append(e)

    def served(self, t):
        """The simulated time of what the fleet served at clock time t."""
        k = bisect.bisect_right(self._now, t) - 1
        return min(t, self._at[k]) if k >= 0 else t

    def lag(self, t):
        return t - self.served(t)

    def lags(self):
        """How far behind the clock each step was taken (simulated s)."""
        return [now - at for now, at in zip(self._now, self._at)]
