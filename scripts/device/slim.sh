#!/usr/bin/env bash
# The device tool sends the working tree (tracked files) plus what `carry` names, 64 MiB in all. With the models
# (39 MB) and .device (27 MB: node, llama.cpp's source, the app) that is too much, so before such a call the tracked
# files the GPU machine does not need move to .device-stash/ (git-ignored), and back after it:
#   bash scripts/device/slim.sh out [--no-draft | --no-target]   # bench/results and test/ out; also the draft model
#                                                              # (a call that trains or embeds) or the target and head
#                                                              # (a bench on a machine where setup already ran)
#   bash scripts/device/slim.sh back
# Never commit while slimmed: `git commit -a` would record the moved files as deleted.
set -euo pipefail
cd "$(dirname "$0")/../.."
stash=.device-stash
case "${1:-}" in
  out)
    mkdir -p $stash/models $stash/bench
    mv bench/results $stash/bench/ && mv test $stash/
    if [ "${2:-}" = --no-draft ]; then mv models/verispec-draft.gguf $stash/models/; fi
    if [ "${2:-}" = --no-target ]; then mv models/verispec-target.gguf models/verispec-eagle3.gguf $stash/models/; fi
    echo "$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1 || true) bytes of tracked files left to travel" ;;
  back)
    if [ -d $stash/bench/results ]; then mv $stash/bench/results bench/; fi
    if [ -d $stash/test ]; then mv $stash/test .; fi
    for f in $stash/models/*; do if [ -e "$f" ]; then mv "$f" models/; fi; done
    rm -rf $stash
    git status --short | head -5 ;;
  *) echo "usage: slim.sh out [--no-draft | --no-target] | back" >&2; exit 2 ;;
esac
