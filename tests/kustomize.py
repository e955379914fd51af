"""A renderer for the part of Kustomize that k8s/ uses, so that the tests render every variant
without the kustomize binary (no registry this project installs from ships one): `resources`
(files and directories holding a kustomization.yaml), `namespace`, `images` (name, newName,
newTag) and `patches` with a `target` (kind, and a name matched as a whole regular expression)
and an inline JSON 6902 patch (add, replace, remove; `-` appends). Anything else in a
kustomization is refused, so a feature the files start using cannot be silently ignored.
Its output was compared with `kubectl kustomize` (Kustomize v5.5.0) for both overlays."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

Document = dict[str, Any]

KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
# Kinds without a namespace among those k8s/ holds.
CLUSTER_KINDS = {"Namespace"}


class KustomizeError(ValueError):
    pass


def render(folder: Path) -> list[Document]:
    """The documents `kubectl kustomize folder` prints (in the order of the resources)."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KNOWN_FIELDS
    if unknown:
        raise KustomizeError(f"{folder}: fields this renderer does not know: {sorted(unknown)}")
    documents: list[Document] = []
    for resource in kustomization.get("resources", []):
        path = folder / resource
        if path.is_dir():
            documents += render(path)
        else:
            documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    namespace = kustomization.get("namespace")
    for document in documents:
        if namespace and document["kind"] not in CLUSTER_KINDS:
            document["metadata"]["namespace"] = namespace
    for image in kustomization.get("images", []):
        for document in documents:
            _set_image(document, image)
    for patch in kustomization.get("patches", []):
        selected = [d for d in documents if _selected(d, patch["target"])]
        if not selected:
            raise KustomizeError(
                f"{folder}: no resource matches the patch target {patch['target']}"
            )
        operations = yaml.safe_load(patch["patch"])
        for document in selected:
            for operation in operations:
                apply_operation(document, operation)
    return documents


def _selected(document: Document, target: dict[str, str]) -> bool:
    unknown = set(target) - {"kind", "name"}
    if unknown:
        raise KustomizeError(f"patch target fields this renderer does not know: {sorted(unknown)}")
    return all(
        re.fullmatch(target[field], value)
        for field, value in (("kind", document["kind"]), ("name", document["metadata"]["name"]))
        if field in target
    )


def pod_spec(document: Document) -> Document | None:
    """The pod template's spec of a workload (Deployment, Job, CronJob), else None."""
    spec = document.get("spec", {})
    if document["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template: Document | None = spec.get("template")
    return template["spec"] if template else None


def _set_image(document: Document, image: dict[str, str]) -> None:
    spec = pod_spec(document)
    if spec is None:
        return
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        name = re.split(r"[:@]", container["image"], maxsplit=1)[0]
        if name == image["name"]:
            new_name = image.get("newName", name)
            tag = image.get("newTag")
            container["image"] = f"{new_name}:{tag}" if tag else new_name


def apply_operation(document: Document, operation: dict[str, Any]) -> None:
    """One JSON Patch (RFC 6902) operation: add, replace or remove."""
    op, path = operation["op"], operation["path"]
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]
    parent: Any = document
    for part in parents:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    value = copy.deepcopy(operation.get("value"))
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if op == "add":
            parent.insert(index, value)
        elif op == "replace":
            parent[index] = value
        elif op == "remove":
            del parent[index]
        else:
            raise KustomizeError(f"JSON patch operation this renderer does not know: {op}")
        return
    if op in ("replace", "remove") and last not in parent:
        raise KustomizeError(f"{op} {path}: no such member")
    if op in ("add", "replace"):
        parent[last] = value
    elif op == "remove":
        del parent[last]
    else:
        raise KustomizeError(f"JSON patch operation this renderer does not know: {op}")


def container_environment(documents: list[Document], container: Document) -> dict[str, str]:
    """The variables a container is given: its ConfigMaps' (`envFrom`, in order), then its
    own `env` values (Secrets are not in the manifests and are left out)."""
    config_maps = {
        d["metadata"]["name"]: d.get("data", {}) for d in documents if d["kind"] == "ConfigMap"
    }
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            environment.update(config_maps[source["configMapRef"]["name"]])
    environment.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return environment
