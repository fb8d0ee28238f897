# Sourced by bench/study/run.sh and bench/dashboard/run.sh. trivial_study_yaml DB prints the
# study both time: TPE over x, y in [-10, 10] minimizing x^2 + y^2 with an awk objective (a
# process start and nothing more per trial), stored in the SQLite file DB.
trivial_study_yaml() {
  cat <<YAML
study: {name: trivial, storage: $1, seed: 0, sampler: {type: tpe}, pruner: {type: none}}
objective:
  command: [/usr/bin/awk, 'BEGIN { printf "{\"value\": %.17g}\n", {x} * {x} + {y} * {y} }']
search_space:
  x: {type: float, low: -10, high: 10}
  y: {type: float, low: -10, high: 10}
YAML
}
