"""Static checks of launch/ and config/ (ros2 launch itself is not available here).

Python launch files are parsed with ``ast``, the XML twin with ``xml.etree``. Every
executable, node name, parameter, remapped topic and launch argument they mention must exist
and agree with what the nodes declare (``PARAMS`` / ``PUBLISHES`` / ``SUBSCRIBES`` of
fer_ros.nodes.*) and with config/fer_ros.yaml.

``launch_values`` / ``xml_values`` model what launch makes of each parameter value for given
launch arguments (the rules of launch_ros >= 0.19, i.e. Humble, Jazzy and Kilted):

* Python: ``ParameterValue(subst, value_type=T)`` coerces the substituted text to ``T``
  (``str`` keeps it as it is); a bare substitution is read with YAML rules (launch_ros
  ``evaluate_parameters``), a constant is passed as given.
* XML: ``<param value="..." type="T">`` becomes ``ParameterValue(subst, value_type=T)``;
  without ``type`` the substitution grammar drops outer single quotes and the text is then
  read as YAML, which is how ``value="'$(var source)'"`` turned ``source:=0`` into an int.

Not modelled (a launch_ros / rcl limitation no launch file can fix, ros2/launch_ros#384):
launch_ros hands string values to the node through a YAML file written with PyYAML, which
leaves text like ``1e3`` unquoted, and rcl then reads it as a double.
"""

from __future__ import annotations

import ast
import importlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

import fer_ros
from fer_ros.nodes import NODE_CLASSES

REPO = Path(__file__).resolve().parents[1]
LAUNCH = REPO / "launch"
CONFIG = REPO / "config" / "fer_ros.yaml"
PY_LAUNCH_FILES = sorted(LAUNCH.glob("*.launch.py"))
PIPELINE_ARGS = {"source", "model", "detector", "namespace", "params_file", "autostart"}
#: executables that are managed (lifecycle) nodes
MANAGED = {"face_detector", "emotion"}


def node_module(executable):
    return importlib.import_module(NODE_CLASSES[executable][0])


def param_names(executable):
    return {s.name for s in node_module(executable).PARAMS}


def topics(executable):
    mod = node_module(executable)
    return set(mod.PUBLISHES) | set(mod.SUBSCRIBES)


# ---------------------------------------------------------------------------- python parsing
def call_name(node):
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def const(node):
    return node.value if isinstance(node, ast.Constant) else None


def kw(call, name):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def launch_config_name(node, aliases=None):
    """'x' for LaunchConfiguration('x'), ParameterValue(LaunchConfiguration('x'), ...), or a
    variable assigned from LaunchConfiguration('x') (``aliases``)."""
    if isinstance(node, ast.Call) and call_name(node) == "ParameterValue":
        node = node.args[0]
    if isinstance(node, ast.Call) and call_name(node) == "LaunchConfiguration":
        return const(node.args[0])
    if isinstance(node, ast.Name) and aliases:
        return aliases.get(node.id)
    return None


def parse_py_launch(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    args = {}
    for c in calls:
        if call_name(c) == "DeclareLaunchArgument":
            name = const(c.args[0])
            default = kw(c, "default_value")
            choices = kw(c, "choices")
            args[name] = {
                "default": const(default) if default is not None else None,
                "default_node": default,
                "choices": [const(e) for e in choices.elts] if choices is not None else None,
                "description": const(kw(c, "description")) if kw(c, "description") else None,
            }
    # names assigned at the top of the function: LaunchConfiguration('x') -> 'x', and every
    # assigned value (for launch_values)
    aliases, assigned = {}, {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and \
                isinstance(n.targets[0], ast.Name):
            assigned[n.targets[0].id] = n.value
            name = launch_config_name(n.value)
            if name:
                aliases[n.targets[0].id] = name
    used = {launch_config_name(c) for c in calls} - {None}
    nodes = []
    for c in calls:
        if call_name(c) not in ("Node", "LifecycleNode"):
            continue
        params, files, value_nodes = {}, [], {}
        plist = kw(c, "parameters")
        for el in (plist.elts if plist is not None else []):
            if isinstance(el, ast.Dict):
                for k, v in zip(el.keys, el.values):
                    params[const(k)] = {"arg": launch_config_name(v, aliases),
                                        "value": const(v)}
                    value_nodes[const(k)] = v
            else:
                files.append(launch_config_name(el, aliases))
        remaps = []
        rlist = kw(c, "remappings")
        for el in (rlist.elts if rlist is not None else []):
            remaps.append((const(el.elts[0]), launch_config_name(el.elts[1], aliases)))
        ns = kw(c, "namespace")
        nodes.append({
            "package": const(kw(c, "package")), "executable": const(kw(c, "executable")),
            "name": const(kw(c, "name")), "params": params, "param_files": files,
            "remaps": remaps,
            "namespace_arg": launch_config_name(ns, aliases),
            "lifecycle": call_name(c) == "LifecycleNode",
            "value_nodes": value_nodes, "namespace_node": ns, "remap_nodes": rlist,
            "ros_args_node": kw(c, "ros_arguments"),
        })
    return {"args": args, "nodes": nodes, "used": used | set(aliases.values()), "tree": tree,
            "assigned": assigned}


# ---------------------------------------------------------------------------- xml parsing
VAR = re.compile(r"\$\(var (\w+)\)")


def parse_xml_launch(path):
    root = ET.parse(path).getroot()
    assert root.tag == "launch"
    args = {a.get("name"): {"default": a.get("default"), "description": a.get("description")}
            for a in root.iter("arg")}
    nodes = []
    used = set()
    for el in root.iter():
        for value in el.attrib.values():
            used |= set(VAR.findall(value))
    for n in root.iter():
        if n.tag not in ("node", "lifecycle_node"):
            continue
        params, files = {}, []
        for p in n.findall("param"):
            if p.get("from") is not None:
                files.extend(VAR.findall(p.get("from")))
                continue
            value = p.get("value")
            m = VAR.fullmatch(value.strip("'"))
            params[p.get("name")] = {"arg": m.group(1) if m else None,
                                     "value": None if m else value,
                                     "raw": value, "type": p.get("type")}
        nodes.append({
            "package": n.get("pkg"), "executable": n.get("exec"), "name": n.get("name"),
            "params": params, "param_files": files,
            "remaps": [(r.get("from"), r.get("to")) for r in n.findall("remap")],
            "namespace_arg": (VAR.findall(n.get("namespace") or "") or [None])[0],
            "lifecycle": n.tag == "lifecycle_node",
            "namespace": n.get("namespace"), "ros_args": n.get("ros_args"),
        })
    return {"args": args, "nodes": nodes, "used": used}


# ---------------------------------------------------------------------------- evaluation
#: the type= names of launch_xml <param> for each parameter type
XML_TYPE_NAMES = {str: "str", bool: "bool", int: "int", float: "float"}
_TYPES = {name: t for t, name in XML_TYPE_NAMES.items()}


def coerce(text, value_type):
    """What launch makes of a substitution's text with ``value_type`` (None: YAML rules)."""
    if value_type is str:
        return text
    value = yaml.safe_load(text)
    if value_type is None:
        if type(value) not in (bool, int, float, str):
            raise TypeError(f"{text!r} is not a scalar parameter value")
        return value
    if value_type is float and type(value) is int:
        return float(value)
    if type(value) is not value_type:
        raise ValueError(f"{text!r} is not a {value_type.__name__}")
    return value


def argument_values(info, given):
    """Launch argument -> text: the given value, else the declared default."""
    out = {}
    for name, arg in info["args"].items():
        if name in given:
            out[name] = given[name]
        elif arg["default"] is not None:
            out[name] = arg["default"]
        else:                                   # PathJoinSubstitution(FindPackageShare(..))
            out[name] = f"<{name}>"
    return out


def py_text(node, info, args):
    """Text of a substitution expression in a Python launch file."""
    if isinstance(node, ast.Name):
        return py_text(info["assigned"][node.id], info, args)
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.Call) and call_name(node) == "LaunchConfiguration":
        return args[const(node.args[0])]
    raise AssertionError(f"unmodelled substitution {ast.dump(node)}")


def py_value(node, info, args):
    """A parameter value of a Python launch file, as launch_ros passes it to the node."""
    if isinstance(node, ast.Name):
        return py_value(info["assigned"][node.id], info, args)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call) and call_name(node) == "ParameterValue":
        vt = kw(node, "value_type")
        return coerce(py_text(node.args[0], info, args), _TYPES[vt.id] if vt else None)
    return coerce(py_text(node, info, args), None)   # a bare substitution: YAML rules


def py_list(node, info, args):
    if node is None:
        return []
    if isinstance(node, ast.Name):
        node = info["assigned"][node.id]
    return [py_text(e, info, args) for e in node.elts]


def launch_values(path, given):
    """{executable: {name, namespace, params, remaps, ros_args}} that the Python or XML launch
    file ``path`` gives its nodes for the launch arguments ``given`` (text, as on the command
    line); parameter files are left out (every node gets the same ``params_file``)."""
    if path.suffix == ".xml":
        return xml_values(path, given)
    info = parse_py_launch(path)
    args = argument_values(info, given)
    out = {}
    for node in info["nodes"]:
        out[node["executable"]] = {
            "name": node["name"],
            "namespace": py_text(node["namespace_node"], info, args),
            "params": {k: py_value(v, info, args) for k, v in node["value_nodes"].items()},
            "remaps": [(py_text(e.elts[0], info, args), py_text(e.elts[1], info, args))
                       for e in (node["remap_nodes"].elts if node["remap_nodes"] else [])],
            "ros_args": py_list(node["ros_args_node"], info, args),
        }
    return out


def xml_values(path, given):
    info = parse_xml_launch(path)
    args = argument_values(info, given)

    def text(raw):
        return VAR.sub(lambda m: args[m.group(1)], raw or "")

    out = {}
    for node in info["nodes"]:
        params = {}
        for name, p in node["params"].items():
            if p["type"] is not None:
                params[name] = coerce(text(p["raw"]), _TYPES[p["type"]])
            else:       # the substitution grammar drops outer quotes, then YAML rules
                raw = p["raw"]
                if len(raw) >= 2 and raw[0] == raw[-1] == "'":
                    raw = raw[1:-1]
                params[name] = coerce(text(raw), None)
        out[node["executable"]] = {
            "name": node["name"], "namespace": text(node["namespace"]), "params": params,
            "remaps": [(text(f), text(t)) for f, t in node["remaps"]],
            "ros_args": text(node["ros_args"]).split(),
        }
    return out


ALL_LAUNCH = [(p, parse_py_launch) for p in PY_LAUNCH_FILES] + \
    [(p, parse_xml_launch) for p in sorted(LAUNCH.glob("*.launch.xml"))]


# ---------------------------------------------------------------------------- checks
def test_expected_launch_files_exist():
    names = {p.name for p in LAUNCH.iterdir()}
    expected = {"fer_pipeline.launch.py", "fer_pipeline.launch.xml", "camera.launch.py",
                "face_detector.launch.py", "emotion.launch.py", "annotator.launch.py"}
    assert expected <= names


@pytest.mark.parametrize("path, parse", ALL_LAUNCH, ids=lambda v: getattr(v, "name", ""))
def test_launch_file_is_consistent_with_the_nodes(path, parse):
    info = parse(path)
    assert info["nodes"], f"{path.name} starts no node"
    declared = set(info["args"])
    # every argument used is declared, and every declared one is used
    assert info["used"] <= declared, f"undeclared launch arguments {info['used'] - declared}"
    assert declared <= info["used"], f"unused launch arguments {declared - info['used']}"
    for arg in info["args"].values():
        assert arg["description"], f"{path.name}: launch argument without description"
    for node in info["nodes"]:
        exe = node["executable"]
        assert node["package"] == "fer_ros"
        assert exe in fer_ros.EXECUTABLES and exe in NODE_CLASSES, exe
        # the node name is the one config/fer_ros.yaml (/**/<name>) and the code use
        assert node["name"] == NODE_CLASSES[exe][2]
        module, func = fer_ros.EXECUTABLES[exe].split(":")
        assert callable(getattr(importlib.import_module(module), func))
        assert node["param_files"] == ["params_file"], node
        assert node["namespace_arg"] == "namespace"
        known = param_names(exe)
        check = node_module(exe).check_params
        for pname, p in node["params"].items():
            assert pname in known, f"{path.name}: {exe} has no parameter {pname!r}"
            if p["arg"] is not None:
                spec = {s.name: s for s in node_module(exe).PARAMS}[pname]
                default = info["args"][p["arg"]]["default"]
                if default is not None:          # the launch default must be valid
                    value = default if isinstance(spec.default, str) else \
                        yaml.safe_load(default)  # ParameterValue(..., value_type=bool) etc.
                    assert check({pname: value}) == [], (pname, default)
                choices = info["args"][p["arg"]].get("choices")
                if choices and spec.choices:
                    assert set(choices) <= set(spec.choices)
                if path.suffix == ".xml":
                    # an untyped value is read as YAML: '0' would be an int
                    assert p["type"] == XML_TYPE_NAMES[type(spec.default)], \
                        f"{path.name}: give {pname} type=\"{XML_TYPE_NAMES[type(spec.default)]}\""
        for frm, _to in node["remaps"]:
            assert frm in topics(exe), f"{path.name}: {exe} has no topic {frm!r}"


def test_pipeline_launch_files_start_all_nodes_with_the_required_args():
    for path, parse in ((LAUNCH / "fer_pipeline.launch.py", parse_py_launch),
                        (LAUNCH / "fer_pipeline.launch.xml", parse_xml_launch)):
        info = parse(path)
        assert sorted(n["executable"] for n in info["nodes"]) == sorted(NODE_CLASSES)
        assert PIPELINE_ARGS <= set(info["args"]), path.name
        by_exe = {n["executable"]: n for n in info["nodes"]}
        assert by_exe["camera"]["params"]["source"]["arg"] == "source"
        assert by_exe["face_detector"]["params"]["detector"]["arg"] == "detector"
        assert by_exe["emotion"]["params"]["model_path"]["arg"] == "model"


@pytest.mark.parametrize("path, parse", ALL_LAUNCH, ids=lambda v: getattr(v, "name", ""))
def test_managed_nodes_start_as_plain_nodes_and_bring_themselves_up(path, parse):
    """face_detector and emotion are managed nodes, but the launch files use plain Node /
    <node> actions (LifecycleNode needs explicit name+namespace, and <lifecycle_node> exists
    only from launch_ros 0.26.12 / 0.28.6 on: not on Humble nor older Jazzy / Kilted). The
    nodes reach active through their own ``autostart`` parameter, bound to an ``autostart``
    launch argument that defaults to true."""
    import importlib

    from rclpy.lifecycle import LifecycleNode

    info = parse(path)
    for node in info["nodes"]:
        exe = node["executable"]
        module, cls, _ = NODE_CLASSES[exe]
        managed = issubclass(getattr(importlib.import_module(module), cls), LifecycleNode)
        assert managed == (exe in MANAGED), exe
        assert not node["lifecycle"]
        if not managed:
            assert "autostart" not in node["params"]
            continue
        assert node["params"]["autostart"]["arg"] == "autostart", f"{path.name}: {exe}"
        arg = info["args"]["autostart"]
        assert arg["default"] == "true"
        if "choices" in arg and arg["choices"] is not None:
            assert set(arg["choices"]) == {"true", "false"}
        for text_value, want in (("true", True), ("false", False)):
            values = launch_values(path, {"autostart": text_value})
            assert values[exe]["params"]["autostart"] is want


def test_xml_twin_matches_the_python_pipeline():
    py = parse_py_launch(LAUNCH / "fer_pipeline.launch.py")
    xml = parse_xml_launch(LAUNCH / "fer_pipeline.launch.xml")
    assert set(py["args"]) == set(xml["args"])
    for name, arg in py["args"].items():
        if arg["default"] is not None:
            assert xml["args"][name]["default"] == arg["default"], name

    def strip(node):
        return {k: v["arg"] for k, v in node["params"].items()}

    assert {n["executable"]: (n["name"], strip(n)) for n in py["nodes"]} == \
        {n["executable"]: (n["name"], strip(n)) for n in xml["nodes"]}


#: launch arguments as a user types them; numeric- and bool-looking text must stay strings
PIPELINE_CASES = [
    {},
    {"source": "0"},
    {"source": "true"},
    {"source": "/dev/video0", "detector": "haar", "namespace": "front", "autostart": "false",
     "model": "/models/emotion_cnn.tflite", "log_level": "debug"},
    {"source": "bag:/data/rec.mcap", "namespace": "/robot1/cam"},
]


@pytest.mark.parametrize("given", PIPELINE_CASES, ids=lambda g: ",".join(
    f"{k}={v}" for k, v in g.items()) or "defaults")
def test_xml_and_python_pipelines_give_the_same_node_parameters(given):
    py = launch_values(LAUNCH / "fer_pipeline.launch.py", given)
    xml = launch_values(LAUNCH / "fer_pipeline.launch.xml", given)
    assert py == xml
    camera = py["camera"]["params"]["source"]
    assert type(camera) is str and camera == given.get("source", "sample")
    for exe, node in py.items():
        assert node_module(exe).check_params(node["params"]) == [], (exe, node["params"])
        assert node["namespace"] == given.get("namespace", "")


def test_source_0_reaches_the_camera_as_a_string():
    for name in ("fer_pipeline.launch.py", "fer_pipeline.launch.xml", "camera.launch.py"):
        for text in ("0", "true", "1", "0x10", "null", ""):
            source = launch_values(LAUNCH / name, {"source": text})["camera"]["params"][
                "source"]
            assert source == text and type(source) is str, (name, text, source)


def test_the_old_quoted_xml_form_is_what_turned_source_0_into_an_int(tmp_path):
    """The model reproduces the reported failure of value="'$(var source)'" (issue: camera
    'cannot start: ... source to 0 of type INTEGER')."""
    old = tmp_path / "old.launch.xml"
    old.write_text(
        '<launch><arg name="source" default="sample" description="d"/><arg name="params_file" '
        'default="p" description="d"/><arg name="namespace" default="" description="d"/>'
        '<node pkg="fer_ros" exec="camera" name="camera" namespace="$(var namespace)">'
        '<param from="$(var params_file)"/>'
        '<param name="source" value="\'$(var source)\'"/></node></launch>')
    assert launch_values(old, {"source": "0"})["camera"]["params"]["source"] == 0
    assert launch_values(old, {"source": "true"})["camera"]["params"]["source"] is True
    assert launch_values(old, {"source": "/dev/video0"})["camera"]["params"]["source"] == \
        "/dev/video0"


@pytest.mark.parametrize("path, parse", ALL_LAUNCH, ids=lambda v: getattr(v, "name", ""))
def test_every_argument_reaches_its_parameter_with_the_declared_type(path, parse):
    """For each parameter bound to a launch argument: numeric-looking text given to a string
    parameter stays a string, and each allowed choice passes the node's check function."""
    info = parse(path)
    for node in info["nodes"]:
        exe = node["executable"]
        specs = {s.name: s for s in node_module(exe).PARAMS}
        for pname, p in node["params"].items():
            if p["arg"] is None:
                continue
            spec, arg = specs[pname], info["args"][p["arg"]]
            tries = arg.get("choices") or (["0", "true", "12"] if isinstance(
                spec.default, str) else [str(spec.default).lower()])
            for text in tries:
                value = launch_values(path, {p["arg"]: text})[exe]["params"][pname]
                assert type(value) is type(spec.default), (path.name, pname, text, value)
                if isinstance(spec.default, str):
                    assert value == text
                if arg.get("choices") or not isinstance(spec.default, str):
                    assert node_module(exe).check_params({pname: value}) == [], (pname, value)


def test_launch_files_state_the_distros_they_were_written_for():
    for path in [p for p, _ in ALL_LAUNCH]:
        if path.name.startswith("fer_pipeline"):
            assert "Humble, Jazzy and Kilted" in path.read_text(), path.name


def test_params_file_default_is_the_shipped_config():
    for path in PY_LAUNCH_FILES:
        node = parse_py_launch(path)["args"]["params_file"]["default_node"]
        assert call_name(node) == "PathJoinSubstitution"
        parts = node.args[0].elts
        assert call_name(parts[0]) == "FindPackageShare" and const(parts[0].args[0]) == \
            "fer_ros"
        assert [const(p) for p in parts[1:]] == ["config", "fer_ros.yaml"]
    xml = parse_xml_launch(LAUNCH / "fer_pipeline.launch.xml")
    assert xml["args"]["params_file"]["default"] == \
        "$(find-pkg-share fer_ros)/config/fer_ros.yaml"
    assert CONFIG.is_file()


def test_one_launch_file_per_node():
    for exe in NODE_CLASSES:
        info = parse_py_launch(LAUNCH / f"{exe}.launch.py")
        assert [n["executable"] for n in info["nodes"]] == [exe]


def test_executables_are_installed_by_cmake():
    cmake = (REPO / "CMakeLists.txt").read_text()
    listed = dict(re.findall(r'"(\w+)=([\w.]+:\w+)"', cmake))
    for exe in set(NODE_CLASSES) | {"pipeline", "demo"}:
        assert listed.get(exe) == fer_ros.EXECUTABLES[exe], exe
    assert re.search(r"foreach\(_dir launch config models\)", cmake)


def test_detector_names_everywhere_are_the_detectors():
    """The launch files and config cannot import fer_ros.face_detection.DETECTOR_NAMES, the
    one list: they must name the same detectors (and the default first)."""
    from fer_ros.face_detection import DETECTOR_NAMES

    declared = 0
    for path in sorted(LAUNCH.glob("*.launch.py")):
        for default, choices in re.findall(r"'detector', default_value='(\w+)', "
                                           r"choices=\[([^\]]*)\]", path.read_text()):
            assert default == DETECTOR_NAMES[0], path
            assert tuple(re.findall(r"'(\w+)'", choices)) == DETECTOR_NAMES, path
            declared += 1
    assert declared == 2        # face_detector.launch.py, fer_pipeline.launch.py
    xml = ET.parse(LAUNCH / "fer_pipeline.launch.xml").getroot()
    arg = next(a for a in xml.iter("arg") if a.get("name") == "detector")
    assert arg.get("default") == DETECTOR_NAMES[0]
    assert re.findall(r"\w+", arg.get("description"))[-3:] == [DETECTOR_NAMES[0], "or",
                                                                DETECTOR_NAMES[1]]
    assert load_config()["/**/face_detector"]["ros__parameters"]["detector"] in DETECTOR_NAMES
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
