#!/usr/bin/env bash
# Sets up a Debian 12 machine, builds avrec and runs the main job on the
# bundled sample (data/sample/pipeline.json) with the default model. Ends by
# printing where the ranked JSON was written.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$("$root/tools/setup.sh")
"$build/avrec" run --config "$root/data/sample/pipeline.json"
