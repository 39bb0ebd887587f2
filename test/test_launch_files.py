"""Static checks of launch/ and config/ that need no launch system (the launch files under the
real launch tools are tested in test/test_launch_real.py): the files and executables exist,
the launch arguments bound to parameters (fer_ros.launch_files) name declared parameters of
the right type, the detector names agree, config/fer_ros.yaml covers every parameter with its
default, and docs/NODES.md has the current parameter tables.
"""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

import fer_ros
from fer_ros.launch_files import NODE_ARGUMENTS
from fer_ros.nodes import NODE_CLASSES

REPO = Path(__file__).resolve().parents[1]
LAUNCH = REPO / "launch"
CONFIG = REPO / "config" / "fer_ros.yaml"


def node_module(executable):
    return importlib.import_module(NODE_CLASSES[executable][0])


def topics(executable):
    mod = node_module(executable)
    return set(mod.PUBLISHES) | set(mod.SUBSCRIBES)


def test_expected_launch_files_exist():
    names = {p.name for p in LAUNCH.iterdir()}
    assert {"fer_pipeline.launch.py", "fer_pipeline.launch.xml"} <= names
    assert {f"{exe}.launch.py" for exe in NODE_CLASSES} <= names


def test_launch_arguments_name_declared_parameters_of_their_type():
    assert set(NODE_ARGUMENTS) == set(NODE_CLASSES)
    for exe, arguments in NODE_ARGUMENTS.items():
        specs = {s.name: s for s in node_module(exe).PARAMS}
        for argument, (parameter, value_type) in arguments.items():
            assert parameter in specs, (exe, argument, parameter)
            assert type(specs[parameter].default) is value_type, (exe, parameter)


def test_executables_are_installed_by_cmake():
    cmake = (REPO / "CMakeLists.txt").read_text()
    listed = dict(re.findall(r'"(\w+)=([\w.]+:\w+)"', cmake))
    for exe in set(NODE_CLASSES) | {"pipeline", "demo"}:
        assert listed.get(exe) == fer_ros.EXECUTABLES[exe], exe
    assert re.search(r"foreach\(_dir launch config models\)", cmake)


def test_detector_names_everywhere_are_the_detectors():
    """The launch files and config cannot import fer_ros.face_detection.DETECTOR_NAMES, the
    one list: they must name the same detectors ('' first: unset)."""
    from fer_ros.face_detection import DETECTOR_NAMES

    declared = 0
    for path in sorted(LAUNCH.glob("*.launch.py")):
        for choices in re.findall(r"'detector', default_value='', choices=\[([^\]]*)\]",
                                  path.read_text()):
            assert tuple(re.findall(r"'(\w*)'", choices)) == ("", *DETECTOR_NAMES), path
            declared += 1
    assert declared == 2        # face_detector.launch.py, fer_pipeline.launch.py
    xml = ET.parse(LAUNCH / "fer_pipeline.launch.xml").getroot()
    arg = next(a for a in xml.iter("arg") if a.get("name") == "detector")
    assert tuple(c.get("value") for c in arg.iter("choice")) == ("", *DETECTOR_NAMES)
    assert load_config()["/**/face_detector"]["ros__parameters"]["detector"] == \
        DETECTOR_NAMES[0]
    comment = re.search(r"detector: \w+ +#(.*)", CONFIG.read_text()).group(1)
    assert re.findall(r"\b(" + "|".join(DETECTOR_NAMES) + r")\b", comment) == list(
        DETECTOR_NAMES)


# ---------------------------------------------------------------------------- config yaml
def load_config():
    return yaml.safe_load(CONFIG.read_text())


def test_config_covers_every_node_and_parameter_with_valid_values():
    data = load_config()
    assert set(data) == {f"/**/{exe}" for exe in NODE_CLASSES}
    for exe in NODE_CLASSES:
        values = data[f"/**/{exe}"]["ros__parameters"]
        specs = {s.name: s for s in node_module(exe).PARAMS}
        assert set(values) == set(specs), (exe, set(values) ^ set(specs))
        for name, value in values.items():
            # rcl does not convert 1 to 1.0: the YAML type must be the declared one
            assert type(value) is type(specs[name].default), (exe, name, value)
            assert value == specs[name].default, \
                f"{exe}.{name}: config {value!r} differs from the declared default"
        assert node_module(exe).check_params(values) == []


def test_config_is_commented():
    text = CONFIG.read_text()
    assert text.count("#") > 20


def test_pipeline_uses_the_shipped_config():
    from fer_ros.pipeline import default_params_file

    assert default_params_file() is not None
    assert yaml.safe_load(default_params_file().read_text()) == load_config()


def test_nodes_md_has_the_current_parameter_tables():
    """docs/NODES.md must contain each node's generated table (regenerate it with
    fer_ros.parameters.markdown_table when a parameter changes)."""
    from fer_ros.parameters import markdown_table

    doc = (REPO / "docs" / "NODES.md").read_text()
    for exe in NODE_CLASSES:
        assert markdown_table(node_module(exe).PARAMS) in doc, \
            f"the {exe} parameter table in docs/NODES.md is out of date"
    for exe in NODE_CLASSES:
        for topic in topics(exe):
            assert f"`{topic}`" in doc
