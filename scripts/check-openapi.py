#!/usr/bin/env python3
"""Checks what schemathesis cannot about openapi.yaml's own consistency.

Every response of every operation declares `Log-Position`; every 4xx/5xx is a problem document
(`/readyz`'s 503 may also be its JSON report) whose `code` enum is listed; `x-problem-codes` equals the union of those
enums; the public operations are exactly the ones the access rules name.
"""
import sys

import yaml

PUBLIC = {
    ("post", "/webhooks/calendly"),
    ("post", "/webhooks/calendly/{suffix}"),
    ("get", "/experts/{id}/availability"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.yaml"),
    ("get", "/experts/{id}/availability-settings"),
    ("post", "/experts/{id}/availability-settings/sign-in"),
    ("post", "/experts/{id}/availability-settings/sign-out"),
    ("get", "/assets/settings.css"),
    ("get", "/assets/settings.js"),
    ("get", "/oauth/calendly/callback"),
    ("get", "/calendar/{feed_token}.ics"),
}
METHODS = {"get", "put", "post", "patch", "delete"}


def main(path: str) -> int:
    document = yaml.safe_load(open(path, encoding="utf-8"))
    components = document["components"]
    errors = []

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            kind, name = node["$ref"].split("/")[-2:]
            node = components[kind][name]
        return node

    for route, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            label = f"{method.upper()} {route}"
            public = operation.get("security") == []
            if public != ((method, route) in PUBLIC):
                errors.append(f"{label}: security is {'public' if public else 'bearer'}, the access rules say otherwise")
            codes = set()
            for status, response in operation["responses"].items():
                response = resolve(response)
                if "Log-Position" not in response.get("headers", {}):
                    errors.append(f"{label} {status}: no Log-Position header")
                if int(status) < 400:
                    continue
                content = dict(response.get("content", {}))
                if route == "/readyz" and status == "503":
                    content.pop("application/json", None)  # not ready is a report, not a refusal
                if route == "/oauth/calendly/callback":
                    content.pop("text/html", None)  # the same refusal, as a page for a browser
                if route.endswith("/sign-in") and status == "401":
                    continue  # the sign-in form again, for a browser
                if list(content) != ["application/problem+json"]:
                    errors.append(f"{label} {status}: not application/problem+json")
                    continue
                schema = content["application/problem+json"]["schema"]
                enum = schema.get("properties", {}).get("code", {}).get("enum")
                if not enum:
                    errors.append(f"{label} {status}: no code enum")
                codes.update(enum or [])
            listed = operation.get("x-problem-codes")
            if listed is None or set(listed) != codes or len(listed) != len(set(listed)):
                errors.append(f"{label}: x-problem-codes {listed} != the responses' codes {sorted(codes)}")
    for error in errors:
        print(f"openapi.yaml: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
