"""Reads template.yaml: the one description of the functions, their routes, environment and table.

The local server, the OpenAPI generator and the tests all read the deployed template through this module, so
what runs locally is what is deployed. CloudFormation's short-form intrinsics (``!Ref``, ``!GetAtt``,
``!Sub``, ...) are kept as their long-form data (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
TABLE = "AWS::DynamoDB::Table"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short-form intrinsics (!Ref, !Sub, ...) as plain data."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """Parses a template file (no caching: see ``template()`` for the project's own)."""
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)
    return loaded


@cache
def template() -> dict[str, Any]:
    """The project's template.yaml, parsed once."""
    return load(TEMPLATE)


def resources(kind: str, tmpl: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical id (in template order)."""
    source = template() if tmpl is None else tmpl
    return {name: r for name, r in source.get("Resources", {}).items() if r.get("Type") == kind}


def table_definition(tmpl: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """CreateTable arguments for the template's messages table (name aside)."""
    (props,) = [r["Properties"] for r in resources(TABLE, tmpl).values()]
    definition = {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props["BillingMode"],
    }
    if props.get("GlobalSecondaryIndexes"):
        definition["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return definition


def functions(tmpl: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The template's serverless functions, by logical id."""
    return resources(FUNCTION, tmpl)


def function_properties(name: str, tmpl: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A function's properties with the template's Globals/Function applied, as SAM merges them:
    the function's own values win; maps (Environment.Variables) merge key by key; lists are joined. Then,
    as CloudFormation deploys them with the parameters' defaults (what the local server runs), each
    ``Fn::If`` is settled and what comes to ``AWS::NoValue`` is left out (see ``settle``)."""
    source = template() if tmpl is None else tmpl
    globals_ = dict(source.get("Globals", {}).get("Function", {}))
    own = functions(source)[name].get("Properties", {})
    settled: dict[str, Any] = settle(_merge(globals_, own), conditions(source))
    return settled


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = _merge(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = [*old, *value]
        else:
            merged[key] = value
    return merged


class TemplateError(ValueError):
    """The template uses something the local server cannot reproduce."""


PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::StackName": "local",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/local/local",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": "",
}


def parameter_defaults(tmpl: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The template's parameters with their default values (parameters without one are left out)."""
    source = template() if tmpl is None else tmpl
    return {
        name: str(spec["Default"])
        for name, spec in source.get("Parameters", {}).items()
        if isinstance(spec, Mapping) and "Default" in spec
    }


def resolve(value: Any, names: Mapping[str, str]) -> str:
    """A template value as a string: ``names`` gives what ``Ref X`` (and ``GetAtt X.Attr``, as ``X.Attr``)
    stand for. Supports Ref, Fn::GetAtt, Fn::Sub and Fn::Join; anything else is a ``TemplateError``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, argument),) = value.items()
        if kind == "Ref":
            return _name(str(argument), names)
        if kind == "Fn::GetAtt":
            parts = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return _name(".".join(str(p) for p in parts), names)
        if kind == "Fn::Sub":
            text, extra = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
            local_names = {**names, **{k: resolve(v, names) for k, v in extra.items()}}
            return re.sub(r"\$\{([^}!][^}]*)\}", lambda m: _name(m.group(1), local_names), str(text))
        if kind == "Fn::Join":
            separator, items = argument
            return str(separator).join(resolve(item, names) for item in items)
        if kind == "Fn::If":
            condition, when_true, when_false = argument
            chosen = when_true if _name(f"Condition:{condition}", names) == "true" else when_false
            return resolve(chosen, names)
    raise TemplateError(f"cannot resolve {value!r} locally")


def with_conditions(tmpl: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, str]:
    """``names`` plus the template's conditions (``Condition:<Name>`` -> "true"/"false"), evaluated with
    them; supports Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition references."""
    result = dict(names)
    conditions = tmpl.get("Conditions", {})

    def evaluate(expression: Any) -> bool:
        ((kind, argument),) = expression.items()
        if kind == "Fn::Equals":
            return resolve(argument[0], result) == resolve(argument[1], result)
        if kind == "Fn::Not":
            return not evaluate(argument[0])
        if kind == "Fn::And":
            return all(evaluate(item) for item in argument)
        if kind == "Fn::Or":
            return any(evaluate(item) for item in argument)
        if kind == "Condition":
            return evaluate(conditions[argument])
        raise TemplateError(f"cannot evaluate condition {expression!r} locally")

    for name, expression in conditions.items():
        result[f"Condition:{name}"] = "true" if evaluate(expression) else "false"
    return result


def conditions(tmpl: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> dict[str, str]:
    """The names that decide a template's conditions: its parameters (their defaults, overridden by
    ``parameters``) and each condition's value, as ``with_conditions`` gives them."""
    unknown = set(parameters or {}) - set(tmpl.get("Parameters", {}))
    if unknown:
        raise TemplateError(f"no such parameters: {sorted(unknown)}")
    return with_conditions(tmpl, {**parameter_defaults(tmpl), **(parameters or {})})


NO_VALUE = {"Ref": "AWS::NoValue"}


def settle(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` as CloudFormation deploys it: each ``Fn::If`` replaced by the branch its condition chooses
    (``names`` holds the conditions, see ``conditions``), and ``AWS::NoValue`` left out of maps and lists.
    Every other intrinsic (Ref, Sub, ...) is kept as it is."""
    if isinstance(value, Mapping):
        if len(value) == 1 and "Fn::If" in value:
            condition, when_true, when_false = value["Fn::If"]
            chosen = when_true if _name(f"Condition:{condition}", names) == "true" else when_false
            return settle(chosen, names)
        mapping = {key: settle(item, names) for key, item in value.items()}
        return {key: item for key, item in mapping.items() if item != NO_VALUE}
    if isinstance(value, list):
        return [item for item in (settle(entry, names) for entry in value) if item != NO_VALUE]
    return value


def deployed(
    parameters: Mapping[str, str] | None = None, tmpl: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The template as CloudFormation would deploy it with ``parameters`` (the others at their defaults):
    resources whose ``Condition`` is false left out, and everything else settled (see ``settle``)."""
    source = template() if tmpl is None else tmpl
    names = conditions(source, parameters)
    kept = {
        name: resource
        for name, resource in source.get("Resources", {}).items()
        if "Condition" not in resource or _name(f"Condition:{resource['Condition']}", names) == "true"
    }
    result: dict[str, Any] = settle({**source, "Resources": kept}, names)
    return result


def _name(name: str, names: Mapping[str, str]) -> str:
    if name in names:
        return names[name]
    if name in PSEUDO_PARAMETERS:
        return PSEUDO_PARAMETERS[name]
    raise TemplateError(f"cannot resolve {name!r} locally")
