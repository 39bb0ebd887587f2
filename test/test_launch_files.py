"""Static checks of launch/ and config/ (ros2 launch itself is not available here).

Python launch files are parsed with ``ast``, the XML twin with ``xml.etree``. Every
executable, node name, parameter, remapped topic and launch argument they mention must exist
and agree with what the nodes declare (``PARAMS`` / ``PUBLISHES`` / ``SUBSCRIBES`` of
fer_ros.nodes.*) and with config/fer_ros.yaml.
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
    # names assigned from LaunchConfiguration('x') at the top of the function
    aliases = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and \
                isinstance(n.targets[0], ast.Name):
            name = launch_config_name(n.value)
            if name:
                aliases[n.targets[0].id] = name
    used = {launch_config_name(c) for c in calls} - {None}
    nodes = []
    for c in calls:
        if call_name(c) not in ("Node", "LifecycleNode"):
            continue
        params, files = {}, []
        plist = kw(c, "parameters")
        for el in (plist.elts if plist is not None else []):
            if isinstance(el, ast.Dict):
                for k, v in zip(el.keys, el.values):
                    params[const(k)] = {"arg": launch_config_name(v, aliases),
                                        "value": const(v)}
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
        })
    return {"args": args, "nodes": nodes, "used": used | set(aliases.values()), "tree": tree}


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
                                     "quoted": value.startswith("'") and value.endswith("'")}
        nodes.append({
            "package": n.get("pkg"), "executable": n.get("exec"), "name": n.get("name"),
            "params": params, "param_files": files,
            "remaps": [(r.get("from"), r.get("to")) for r in n.findall("remap")],
            "namespace_arg": (VAR.findall(n.get("namespace") or "") or [None])[0],
            "lifecycle": n.tag == "lifecycle_node",
        })
    return {"args": args, "nodes": nodes, "used": used}


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
                if path.suffix == ".xml" and isinstance(spec.default, str):
                    # launch_ros reads unquoted values as YAML: '0' would be an int
                    assert p["quoted"], f"{path.name}: quote the value of {pname}"
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
def test_managed_nodes_are_lifecycle_nodes_brought_to_active(path, parse):
    """face_detector and emotion are launch_ros LifecycleNode actions (explicit name and
    namespace, as launch_ros requires), and reach active through their own ``autostart``
    parameter, bound to an ``autostart`` launch argument that defaults to true."""
    import importlib

    from rclpy.lifecycle import LifecycleNode

    info = parse(path)
    for node in info["nodes"]:
        exe = node["executable"]
        module, cls, _ = NODE_CLASSES[exe]
        managed = issubclass(getattr(importlib.import_module(module), cls), LifecycleNode)
        assert managed == (exe in MANAGED), exe
        assert node["lifecycle"] == managed, f"{path.name}: {exe}"
        if not managed:
            assert "autostart" not in node["params"]
            continue
        assert node["name"] == exe and node["namespace_arg"] == "namespace"
        assert node["params"]["autostart"]["arg"] == "autostart", f"{path.name}: {exe}"
        arg = info["args"]["autostart"]
        assert arg["default"] == "true"
        if "choices" in arg and arg["choices"] is not None:
            assert set(arg["choices"]) == {"true", "false"}
    if path.suffix == ".py":
        src = path.read_text()
        if any(n["lifecycle"] for n in info["nodes"]):
            assert "from launch_ros.actions import LifecycleNode" in src


def test_xml_twin_matches_the_python_pipeline():
    py = parse_py_launch(LAUNCH / "fer_pipeline.launch.py")
    xml = parse_xml_launch(LAUNCH / "fer_pipeline.launch.xml")
    assert set(py["args"]) == set(xml["args"])
    for name, arg in py["args"].items():
        if arg["default"] is not None:
            assert xml["args"][name]["default"] == arg["default"], name
    strip = lambda n: {k: v["arg"] for k, v in n["params"].items()}  # noqa: E731
    assert {n["executable"]: (n["name"], strip(n)) for n in py["nodes"]} == \
        {n["executable"]: (n["name"], strip(n)) for n in xml["nodes"]}


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
