#!/usr/bin/env bash
# Record the demonstrations and train the U-Net policy (configs/bottle-cap-unet.json) from nothing, then evaluate it
# on 100 held-out seeds: the commands behind the README's Policies table. ≈ 3 min recording + ≈ 20 min training +
# ≈ 5 min evaluation on the 2-core machine. Writes under runs/reproduce/ (models/ is not touched); re-running
# resumes: the dataset with --resume, training from its last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=runs/reproduce
mkdir -p "$OUT"
duet() { node bin/duet.js "$@"; }

EPISODES=100
have=0
if [ -f "$OUT/dataset/meta/info.json" ]; then
  have=$(duet dataset info "$OUT/dataset" --json | tail -n 1 | node -e 'process.stdin.on("data", (d) => console.log(JSON.parse(d).episodes))')
fi
if [ "$have" -lt "$EPISODES" ]; then
  resume=()
  [ "$have" -gt 0 ] && resume=(--resume)
  duet record --scenario scenarios/bottle-cap.json --source expert --episodes $((EPISODES - have)) --seed 10000 \
    --workers 2 --out "$OUT/dataset" "${resume[@]}"
fi

if [ -f "$OUT/bottle-cap-unet/train/checkpoint.safetensors" ]; then resume=(--resume); else resume=(); fi
duet train --dataset "$OUT/dataset" --config configs/bottle-cap-unet.json --out "$OUT/bottle-cap-unet" "${resume[@]}"

duet eval --policy "$OUT/bottle-cap-unet" --scenario scenarios/bottle-cap.json --episodes 100 --seed 1000000 \
  --workers 2 --json > "$OUT/bottle-cap-unet/eval.json"
tail -n 1 "$OUT/bottle-cap-unet/eval.json"
