"""Parameter helpers shared by the fer_ros nodes.

Each node describes its parameters once, as a tuple of :class:`ParamSpec`. The same table is
used to

* declare the parameters with a full ``ParameterDescriptor`` (description, integer / float
  ranges, read-only flag, allowed choices),
* validate values in a *pure* function (:func:`check_values`, no rclpy needed) that the nodes
  wire to ``add_on_set_parameters_callback`` and also run on the initial values,
* check launch files and the YAML config in the tests, and
* write the parameter tables in docs/NODES.md.

Importing this module does not need a running ROS context; only :func:`declare_parameters`
and :func:`install_validation` touch a node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fer_ros.errors import StartupError

RELIABILITY_CHOICES = ("reliable", "best_effort")


@dataclass(frozen=True)
class ParamSpec:
    """One node parameter: name, default, description and constraints."""

    name: str
    default: Any
    description: str
    read_only: bool = False
    min: float | int | None = None
    max: float | int | None = None
    choices: tuple[str, ...] | None = None

    @property
    def type_name(self) -> str:
        return type(self.default).__name__

    def constraint_text(self) -> str:
        parts = []
        if self.choices:
            parts.append("one of: " + ", ".join(self.choices))
        if self.min is not None or self.max is not None:
            parts.append(f"range [{self.min}, {self.max}]")
        return "; ".join(parts)

    def descriptor(self):
        """Build the rcl_interfaces ParameterDescriptor for this spec."""
        from rcl_interfaces.msg import (
            FloatingPointRange,
            IntegerRange,
            ParameterDescriptor,
            ParameterType,
        )

        type_ids = {bool: ParameterType.PARAMETER_BOOL,
                    int: ParameterType.PARAMETER_INTEGER,
                    float: ParameterType.PARAMETER_DOUBLE,
                    str: ParameterType.PARAMETER_STRING}
        desc = ParameterDescriptor(
            name=self.name,
            type=type_ids[type(self.default)],
            description=self.description,
            read_only=self.read_only,
            additional_constraints=self.constraint_text(),
        )
        if self.min is not None and self.max is not None:
            if isinstance(self.default, bool):
                pass
            elif isinstance(self.default, int):
                desc.integer_range = [IntegerRange(from_value=int(self.min),
                                                   to_value=int(self.max), step=0)]
            elif isinstance(self.default, float):
                desc.floating_point_range = [FloatingPointRange(
                    from_value=float(self.min), to_value=float(self.max), step=0.0)]
        return desc


def spec_map(specs: Iterable[ParamSpec]) -> dict[str, ParamSpec]:
    return {s.name: s for s in specs}


def defaults(specs: Iterable[ParamSpec]) -> dict[str, Any]:
    return {s.name: s.default for s in specs}


def check_value(spec: ParamSpec, value: Any) -> str | None:
    """Return a human-readable problem with ``value`` for ``spec``, or None if it is fine."""
    expected = type(spec.default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is bool:
        if not isinstance(value, bool):
            return f"{spec.name}: expected a bool, got {value!r}"
    elif expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{spec.name}: expected an integer, got {value!r}"
    elif not isinstance(value, expected):
        return f"{spec.name}: expected {expected.__name__}, got {value!r}"
    if spec.choices is not None and value not in spec.choices:
        return f"{spec.name}: {value!r} is not one of {', '.join(spec.choices)}"
    if spec.min is not None and value < spec.min:
        return f"{spec.name}: {value!r} is below the minimum {spec.min}"
    if spec.max is not None and value > spec.max:
        return f"{spec.name}: {value!r} is above the maximum {spec.max}"
    return None


def check_values(specs: Sequence[ParamSpec], values: Mapping[str, Any]) -> list[str]:
    """Check every known parameter in ``values``; unknown names are reported too."""
    by_name = spec_map(specs)
    problems = []
    for name, value in values.items():
        spec = by_name.get(name)
        if spec is None:
            problems.append(f"{name}: unknown parameter")
            continue
        problem = check_value(spec, value)
        if problem:
            problems.append(problem)
    return problems


def declare_parameters(node, specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """Declare every spec on ``node`` and return {name: initial value}."""
    values = {}
    for spec in specs:
        param = node.declare_parameter(spec.name, spec.default, spec.descriptor())
        values[spec.name] = param.value
    return values


def undeclared_message(node_name: str, unknown: Sequence[str],
                       specs: Sequence[ParamSpec]) -> str:
    """What to answer a set request for undeclared parameters (rclpy's own answer names
    none of them)."""
    return (f"node '{node_name}' has no parameter {', '.join(repr(n) for n in unknown)} "
            f"(its parameters: {', '.join(s.name for s in specs)})")


class ParameterError(StartupError, ValueError):
    """Raised at node start-up when the initial parameter values are invalid."""


def install_validation(node, specs: Sequence[ParamSpec],
                       check: Callable[[dict[str, Any]], list[str]],
                       apply: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Declare ``specs`` on ``node``, validate the initial values and wire ``check``.

    ``check(values) -> list[str]`` is a pure function over the *complete* set of values
    (the current ones merged with the proposed change), so cross-parameter rules work too.
    ``apply(changed)`` is called after a successful change with the changed values only.
    Returns the initial values; raises :class:`ParameterError` when they are invalid.
    """
    from rcl_interfaces.msg import SetParametersResult

    values = declare_parameters(node, specs)
    problems = check(dict(values))
    if problems:
        raise ParameterError(f"invalid parameters for node '{node.get_name()}': "
                             + "; ".join(problems))
    known = spec_map(specs)

    def on_set(params) -> SetParametersResult:
        proposed = {p.name: p.value for p in params if p.name in known}
        if not proposed:
            return SetParametersResult(successful=True)
        merged = {name: node.get_parameter(name).value for name in known}
        merged.update(proposed)
        problems = check(merged)
        if problems:
            return SetParametersResult(successful=False, reason="; ".join(problems))
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(on_set)
    if apply is not None:
        # Post-set callbacks run after the values are stored.
        def post_set(params) -> None:
            changed = {p.name: p.value for p in params if p.name in known}
            if changed:
                apply(changed)

        node.add_post_set_parameters_callback(post_set)
    return values


def make_qos(reliability: str, depth: int):
    """A fresh KEEP_LAST QoSProfile (never a shared preset that could be mutated)."""
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    if reliability not in RELIABILITY_CHOICES:
        raise ValueError(f"reliability must be one of {RELIABILITY_CHOICES}, got {reliability!r}")
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=int(depth),
        reliability=(ReliabilityPolicy.RELIABLE if reliability == "reliable"
                     else ReliabilityPolicy.BEST_EFFORT),
        durability=DurabilityPolicy.VOLATILE,
    )


#: Default reliability of an input subscription, by what it reads. Sensor data (the image
#: input, from any camera driver, bag player or bridge) is subscribed best effort, as REP-2003
#: asks of consumers (SensorDataQoS): a best-effort subscription connects to reliable and
#: best-effort publishers alike, a reliable one only to reliable publishers.
SENSOR_INPUT_RELIABILITY = "best_effort"
#: The topics between fer_ros nodes (faces -> emotion, emotions -> annotator) are published
#: reliable by fer_ros itself, so a reliable subscription always connects, and it loses no
#: result: a lost `emotions` message would leave its frame unannotated in the annotator.
GRAPH_INPUT_RELIABILITY = "reliable"


# Parameters every subscribing node shares.
def subscription_specs(sensor_input: bool, default_depth: int = 2):
    """``reliability`` (of the node's main input: the image input when ``sensor_input``),
    ``qos_depth``, ``log_throttle_s`` and ``stats_period_s``."""
    if sensor_input:
        reliability = ParamSpec(
            "reliability", SENSOR_INPUT_RELIABILITY,
            "QoS reliability of the image input (REP-2003 sensor data). 'best_effort' "
            "connects to reliable and best-effort publishers (any camera driver); 'reliable' "
            "connects to reliable publishers only.",
            read_only=True, choices=RELIABILITY_CHOICES)
    else:
        reliability = ParamSpec(
            "reliability", GRAPH_INPUT_RELIABILITY,
            "QoS reliability of the input subscription. 'reliable' (fer_ros publishes it "
            "reliable) loses no message; 'best_effort' also connects to best-effort "
            "publishers.",
            read_only=True, choices=RELIABILITY_CHOICES)
    return (
        reliability,
        ParamSpec("qos_depth", default_depth,
                  "History depth (KEEP_LAST) of the input subscriptions. Kept small: a busy "
                  "node then takes the newest messages; the older ones are overwritten "
                  "(counted as dropped).",
                  read_only=True, min=1, max=100),
        *logging_specs(),
    )


def logging_specs():
    """``log_throttle_s`` and ``stats_period_s``: every node's logging."""
    return (
        ParamSpec("log_throttle_s", 5.0,
                  "Minimum seconds between two repeated warnings/errors of the same kind "
                  "(e.g. rejected input); read-only as rclpy cannot change a throttle.",
                  read_only=True, min=0.0, max=3600.0),
        ParamSpec("stats_period_s", 0.0,
                  "Log the node's counters every this many seconds; 0 disables.",
                  read_only=True, min=0.0, max=3600.0),
    )


def markdown_table(specs: Sequence[ParamSpec]) -> str:
    """The parameter table of docs/NODES.md (a test checks that the doc contains it)."""
    rows = ["| parameter | type | default | constraints | description |",
            "| --- | --- | --- | --- | --- |"]
    for s in specs:
        if isinstance(s.default, bool):
            default = str(s.default).lower()
        elif isinstance(s.default, str):
            default = repr(s.default)
        else:
            default = str(s.default)
        constraints = s.constraint_text()
        if s.read_only:
            constraints = (constraints + "; " if constraints else "") + "read-only"
        rows.append(f"| `{s.name}` | {s.type_name} | `{default}` | {constraints} | "
                    f"{s.description} |")
    return "\n".join(rows)


def lifecycle_specs():
    """Parameters of the managed (lifecycle) nodes."""
    return (
        ParamSpec("autostart", True,
                  "Configure and activate the node by itself at start-up. false: it stays "
                  "'unconfigured' until `ros2 lifecycle set <node> configure` / `activate` "
                  "(or a lifecycle manager) drives it.", read_only=True),
    )
