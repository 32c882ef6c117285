"""Translates template.yaml with SAM's own translator, as CloudFormation's transform would, for the given
parameter values; prints the resources' types and the properties the tests check as one JSON line.

Runs with the SAM CLI's Python (``.tools/bin/python``, where ``samtranslator`` is): the tests call it in a
subprocess. Code locations become S3 URIs, as ``sam deploy`` makes them.

Usage: .tools/bin/python scripts/translate_template.py [Name=Value ...]
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
# The managed policies the template's functions get (SAM looks their ARNs up in IAM otherwise).
POLICIES = {
    name: f"arn:aws:iam::aws:policy/{path}{name}"
    for name, path in [
        ("AWSXrayWriteOnlyAccess", ""),
        ("AWSLambdaBasicExecutionRole", "service-role/"),
        ("AWSLambdaDynamoDBExecutionRole", "service-role/"),
    ]
}


class _Policies:
    def get_managed_policy_map(self) -> dict[str, str]:
        return POLICIES


def main(argv: list[str]) -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    parameters = dict(arg.split("=", 1) for arg in argv)
    text = TEMPLATE.read_text(encoding="utf-8")
    text = re.sub(r"(CodeUri|ContentUri): \S+", r"\1: s3://bucket/code.zip", text)
    try:
        translated = transform(yaml_parse(text), parameters, _Policies())
    except InvalidDocumentException as exc:
        print(json.dumps({"errors": sorted(str(cause) for cause in exc.causes)}))
        return 1
    print(json.dumps({"resources": translated["Resources"], "conditions": translated.get("Conditions", {})}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
