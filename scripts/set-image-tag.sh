#!/usr/bin/env bash
# Point every overlay (k8s/overlays/*) at the image built from a git revision:
#   bash scripts/set-image-tag.sh [REVISION]     (default: the checked-out commit, short)
# It rewrites the `newTag:` of the lms image in each overlay's kustomization.yaml; build and
# push the image under the same tag (`docker build -t <registry>/lms:<revision> .`).
set -euo pipefail
cd "$(dirname "$0")/.."
revision=${1:-$(git rev-parse --short=12 HEAD)}
if [[ ! "$revision" =~ ^[0-9a-f]{7,40}$ ]]; then
    echo "set-image-tag: '$revision' is not a git revision (7 to 40 hex digits)" >&2
    exit 2
fi
for kustomization in k8s/overlays/*/kustomization.yaml; do
    sed -E -i "s/^(    newTag: )[0-9a-f]+(  #.*)?$/\1$revision\2/" "$kustomization"
    grep -q "^    newTag: $revision" "$kustomization" || {
        echo "set-image-tag: no newTag line written in $kustomization" >&2
        exit 1
    }
    echo "set-image-tag: $kustomization -> $revision"
done
