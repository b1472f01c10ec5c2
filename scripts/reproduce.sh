#!/usr/bin/env bash
# Record the demonstrations and train a policy from nothing, evaluate it on 100 validation seeds and write its model
# card: the commands behind models/.
#
#   scripts/reproduce.sh                        (npm run reproduce: the shipped models/bottle-cap-unet → runs/reproduce/)
#   scripts/reproduce.sh [CONFIG] [MODEL_DIR]   (any config; OBSERVER_CONFIG=… first trains an observer to freeze)
#   EPISODES=2 VALIDATION_EPISODES=1 …          (a smoke run of the pipeline: 2 demonstrations, 1 validation episode)
#
# With no arguments, the shipped U-Net's two stages: configs/bottle-cap-observer.json (4000 steps of the 64/128/256
# U-Net on three cameras, trained for its observer: 1189 s on 2026-12-06) into runs/reproduce/observer, then
# configs/bottle-cap-unet-small-frozen.json (the 64/128 U-Net, 16 000 steps on that observer frozen: 1054 s on one
# thread beside another training), evaluated with its Ta = 1 and temporal ensembling. Measured from nothing on
# 2026-12-08, from a fresh clone with the cores to itself: 2594 s in all (observer 1156 s, U-Net 1094 s), 90/100 on
# the validation seeds, 181/200 on the test seeds (models/bottle-cap-unet/reproduce.json, reproduce-test.json).
# The demonstrations are recorded in SCENARIO (default scenarios/bottle-cap.json) into DATA
# (default runs/reproduce/dataset), which is shared by every config; the models go beside DATA (runs/reproduce/… by
# default), so another dataset never resumes these runs. Re-running resumes: the dataset with --resume, training from
# its last checkpoint. The graphs are exported with float16 weights, as shipped in models/.
# Each run writes MODEL/reproduce.json: when it started, the commit, the CPUs, whether it started from nothing (no
# dataset, no checkpoint: a resumed run's time is not the recipe's) and each stage's wall time. A shipped model keeps
# a reproduction's reproduce.json (and that reproduction's test evaluation as reproduce-test.json) for its card's
# "From nothing" section (src/cli/reproduce-run.ts); docs/experiments/reproduce.md has the timed runs.
# The randomised recipe (camera poses, light, colours and grasp model drawn per episode; docs/simulator.md) records
# in its own scenario into runs/robust/:
#   SCENARIO=scenarios/bottle-cap-randomized.json DATA=runs/robust/dataset bash scripts/reproduce.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GIVEN=""
for v in SCENARIO DATA OBSERVER_CONFIG OBSERVER_MODEL EPISODES VALIDATION_EPISODES; do [ -n "${!v+set}" ] && GIVEN+="$v=${!v} "; done
SCENARIO=${SCENARIO:-scenarios/bottle-cap.json}
DATA=${DATA:-runs/reproduce/dataset}
RUNS=$(dirname "$DATA")
if [ $# -eq 0 ]; then
  OBSERVER_CONFIG=${OBSERVER_CONFIG-configs/bottle-cap-observer.json}
  OBSERVER_MODEL=${OBSERVER_MODEL:-$RUNS/observer}
fi
CONFIG=${1:-configs/bottle-cap-unet-small-frozen.json}
MODEL=${2:-$RUNS/$(basename "$CONFIG" .json)}
if [ -n "${OBSERVER_CONFIG:-}" ]; then OBSERVER_MODEL=${OBSERVER_MODEL:-$MODEL-observer}; fi
mkdir -p "$RUNS" "$(dirname "$MODEL")"
duet() { node bin/duet.js "$@"; }

# The run's record (reproduce.json): the command as typed, whether anything was there to resume, stage times.
if [ "${npm_lifecycle_event:-}" = reproduce ]; then COMMAND="${GIVEN}npm run reproduce${*:+ -- $*}"
else COMMAND="${GIVEN}bash scripts/reproduce.sh${*:+ $*}"; fi
FROM_NOTHING=true
for f in "$DATA/meta/info.json" "$MODEL/train/checkpoint.safetensors" \
  ${OBSERVER_CONFIG:+"$OBSERVER_MODEL/train/checkpoint.safetensors"}; do
  [ -e "$f" ] && FROM_NOTHING=false
done
T0=$(date +%s)
declare -A STAGE
mark() { STAGE[$1]=$(( $(date +%s) - T0 - ${ELAPSED:-0} )); ELAPSED=$(( $(date +%s) - T0 )); }

# --expert-noise 0.015: the expert's pre-grasp waypoints scatter by 1.5 cm and its final approach corrects them, so
# the demonstrations show recoveries from misaligned approaches (configs/README.md).
EPISODES=${EPISODES:-300}
SEED=20000
RECORD="duet record --scenario $SCENARIO --source expert --episodes $EPISODES --seed $SEED --expert-noise 0.015 --workers 2 --out $DATA"
have=0
if [ -f "$DATA/meta/info.json" ]; then
  have=$(duet dataset info "$DATA" --json | tail -n 1 | node -e 'process.stdin.on("data", (d) => console.log(JSON.parse(d).episodes))')
fi
if [ "$have" -lt "$EPISODES" ]; then
  resume=()
  [ "$have" -gt 0 ] && resume=(--resume)
  duet record --scenario "$SCENARIO" --source expert --episodes $((EPISODES - have)) --seed $SEED \
    --expert-noise 0.015 --workers 2 --out "$DATA" "${resume[@]}"
fi

mark record

# OBSERVER_CONFIG (set by default above; empty to train CONFIG alone): first train that config's observer jointly
# with a policy (into OBSERVER_MODEL, default MODEL-observer; resuming a finished run only re-exports it, so a second
# CONFIG can share it), then CONFIG on that observer frozen (duet train --observer-from), at about state-only speed.
# The shipped transformer was made so:
#   OBSERVER_CONFIG=configs/bottle-cap-observer.json OBSERVER_MODEL=runs/reproduce/observer \
#     bash scripts/reproduce.sh configs/bottle-cap-transformer-frozen.json
# (2026-12-06: the observer 1189 s, the transformer 2639 s on one thread beside another training;
# docs/experiments/),
# and models/bottle-cap-unet-wide, trained jointly (12 000 steps, 5765 s on 2026-12-03):
#   bash scripts/reproduce.sh configs/bottle-cap-unet.json
frozen=()
if [ -n "${OBSERVER_CONFIG:-}" ]; then
  if [ -f "$OBSERVER_MODEL/train/checkpoint.safetensors" ]; then resume=(--resume); else resume=(); fi
  duet train --dataset "$DATA" --config "$OBSERVER_CONFIG" --out "$OBSERVER_MODEL" --weights float16 "${resume[@]}"
  frozen=(--observer-from "$OBSERVER_MODEL")
  mark observer
fi
if [ -f "$MODEL/train/checkpoint.safetensors" ]; then resume=(--resume); else resume=(); fi
duet train --dataset "$DATA" --config "$CONFIG" --out "$MODEL" --weights float16 "${frozen[@]}" "${resume[@]}"
mark policy

# Validation seeds (docs/training.md, "Evaluation protocol"): compare runs and choose settings on these. A model that
# ships is then evaluated once on the test seeds (2 000 000–2 000 199, 200 episodes, eval-test.json) and its card
# rewritten with `duet card`. Every recipe is evaluated in the nominal scenario, whatever SCENARIO recorded in: a
# randomised recording is a means to robustness, measured by `npm run bench -- robustness` (docs/simulator.md).
duet eval --policy "$MODEL" --scenario scenarios/bottle-cap.json --episodes "${VALIDATION_EPISODES:-100}" --seed 1000000 \
  --workers 2 --json > "$MODEL/eval-validation.json"
tail -n 1 "$MODEL/eval-validation.json"
mark evaluate
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
observer=""
[ -n "${STAGE[observer]:-}" ] && observer="\"observer\": ${STAGE[observer]}, "
printf '{"command": "%s", "started": "%s", "finished": "%s", "commit": "%s", "cpus": %d, "from_nothing": %s, "seconds": %d, "stages": {"record": %d, %s"policy": %d, "evaluate": %d}}\n' \
  "${COMMAND//\"/\\\"}" "$(iso "$T0")" "$(iso $((T0 + ELAPSED)))" "$(git rev-parse HEAD 2>/dev/null || echo unknown)" "$(nproc)" \
  "$FROM_NOTHING" "$ELAPSED" "${STAGE[record]}" "$observer" "${STAGE[policy]}" "${STAGE[evaluate]}" > "$MODEL/reproduce.json"
echo "reproduce: ${ELAPSED} s in all (from nothing: $FROM_NOTHING; stage times in $MODEL/reproduce.json)" >&2
duet card "$MODEL" --record "$RECORD"
