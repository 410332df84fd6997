#!/bin/bash
# heed against PyTorch, side by side: training and inference img/s and peak
# RSS of ResNet-20, +SE, +CBAM, +ECA and ViT-tiny at batch 128 (issue #8).
#
#   bench/compare_torch.sh [--no-build]          # defaults: THREADS=2 ROUNDS=3 REPS=5
#   THREADS="2 1" ROUNDS=2 REPS=3 MODELS="resnet20 vit" MODES=train bench/compare_torch.sh --no-build
#
# For each thread count, mode and model it runs, ROUNDS times in turn,
#   heed          OPENBLAS_NUM_THREADS=1 build/heed bench --line (its own process;
#                 heed holds OpenBLAS to one thread and splits GEMMs over its pool)
#   torch         OMP_NUM_THREADS=T OPENBLAS_NUM_THREADS=T bench/torch/bench_torch.py --line
#   torch-tuned   the same + GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:
#                 glibc.malloc.trim_threshold=4294967296 GOMP_SPINCOUNT=10000
# so all three see the same machine (it is shared and drifts by up to 25 %).
# Each process warms up (WARMUP steps), then times REPS clean repetitions of
# STEPS steps (default 5 train, 10 infer) and reports their median img/s and
# its peak RSS; the table gives, per row, the median over the rounds of those
# medians, the largest peak RSS, and the ratios. The raw lines go to $RAW.
# PyTorch is Debian's python3-torch, run with /usr/bin/python3; all three get
# the OPENBLAS_CORETYPE of scripts/env.sh (the same OpenBLAS library, whose
# CPU detection needs it on recent CPUs).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare_torch.sh: unknown argument '$a' (--no-build, --help)" >&2; exit 2 ;;
  esac
done
THREADS=${THREADS:-2} ROUNDS=${ROUNDS:-3} REPS=${REPS:-5} WARMUP=${WARMUP:-3} STEPS=${STEPS:-}
MODELS=${MODELS:-"resnet20 se cbam eca vit"} MODES=${MODES:-"train infer"}
RAW=${RAW:-build/compare_torch.txt}
PY=/usr/bin/python3
HEED=build/heed
TUNED=(GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296
       GOMP_SPINCOUNT=10000)

source scripts/env.sh  # OPENBLAS_CORETYPE before OpenBLAS loads
if [ "$build" = 1 ]; then
  # Release, as scripts/build.sh; only the heed command; JOBS=2 by default
  # since the machine may be shared.
  if [ ! -f build/CMakeCache.txt ]; then
    gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
    cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build build -j"${JOBS:-2}" --target heed_cli >/dev/null
fi
[ -x "$HEED" ] || { echo "compare_torch.sh: no $HEED (run without --no-build)" >&2; exit 1; }
"$PY" -c 'import torch' 2>/dev/null || {
  echo "compare_torch.sh: $PY has no torch (apt-get install -y python3-torch)" >&2; exit 1; }

# The heed flags of each model, the same architecture as bench/torch/models.py
# (the parameter counts printed below show it): PyTorch's SE and CBAM use
# nn.Linear with biases, and CBAM a BatchNorm in its spatial gate.
heed_args() {
  case "$1" in
    resnet20) echo "--model resnet20 --attention none" ;;
    se) echo "--model resnet20 --attention se(bias=true)" ;;
    cbam) echo "--model resnet20 --attention cbam(mlp_bias=true,spatial_bn=true)" ;;
    eca) echo "--model resnet20 --attention eca" ;;
    vit) echo "--model vit-tiny --attention none" ;;
    *) echo "compare_torch.sh: unknown model '$1' (resnet20 se cbam eca vit)" >&2; exit 2 ;;
  esac
}

mkdir -p "$(dirname "$RAW")"
: >"$RAW"
echo "heed vs PyTorch $("$PY" -c 'import torch; print(torch.__version__)'), batch 128," \
  "threads: $THREADS, $ROUNDS rounds x $REPS reps, warm-up $WARMUP; $(nproc) cores," \
  "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in $THREADS; do
  for mode in $MODES; do
    for m in $MODELS; do
      for r in $(seq 1 "$ROUNDS"); do
        echo "  threads $t $mode $m round $r/$ROUNDS" >&2
        # shellcheck disable=SC2046  # heed_args is meant to split
        env OPENBLAS_NUM_THREADS=1 "$HEED" bench $(heed_args "$m") \
          --mode "$mode" --threads "$t" --batch-size 128 --warmup "$WARMUP" --reps "$REPS" \
          ${STEPS:+--steps "$STEPS"} --line | sed "s/^heed model=[^ ]*/heed model=$m/" >>"$RAW"
        for e in default tuned; do
          extra=()
          [ "$e" = tuned ] && extra=("${TUNED[@]}")
          env OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" BENCH_ENV="$e" "${extra[@]}" \
            "$PY" bench/torch/bench_torch.py "$m" "$mode" "$t" "$REPS" ${STEPS:+"$STEPS"} --line \
            | sed "s/^torch /torch-$e /; s/^torch-default /torch /" >>"$RAW"
        done
      done
    done
  done
done

# The table: medians over rounds, ratios, RSS, and heed's thread scaling.
awk -v threads="$THREADS" -v modes="$MODES" -v models="$MODELS" '
function kv(k,   i, p) { for (i = 2; i <= NF; i++) { p = index($i, "="); if (substr($i, 1, p - 1) == k) return substr($i, p + 1) } return "" }
function med(s,   a, n, i, j, x) {  # median of a space-separated list (mawk has no asort)
  n = split(s, a, " "); if (n == 0) return 0
  for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
  side = $1; k = kv("threads") SUBSEP kv("mode") SUBSEP kv("model") SUBSEP side
  ips[k] = ips[k] " " kv("median"); if (kv("peak_rss_mib") + 0 > rss[k]) rss[k] = kv("peak_rss_mib") + 0
  params[kv("model") SUBSEP side] = kv("params")
}
function r(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
END {
  nt = split(threads, T, " "); nmo = split(modes, MO, " "); nm = split(models, M, " ")
  for (i = 1; i <= nt; i++) for (j = 1; j <= nmo; j++) {
    printf "\n%s, %s thread%s: img/s (median over rounds; heed/x > 1: heed is faster), peak RSS MiB (heed/x < 1: heed uses less)\n", MO[j], T[i], T[i] == 1 ? "" : "s"
    printf "%-9s %9s %9s | %7s %7s %7s | %10s %10s | %6s %6s %6s | %10s %10s\n", "model", "params", "torch", "heed", "torch", "tuned", "heed/torch", "heed/tuned", "heed", "torch", "tuned", "heed/torch", "heed/tuned"
    for (m = 1; m <= nm; m++) {
      b = T[i] SUBSEP MO[j] SUBSEP M[m] SUBSEP
      h = med(ips[b "heed"]); d = med(ips[b "torch"]); u = med(ips[b "torch-tuned"])
      printf "%-9s %9s %9s | %7.1f %7.1f %7.1f | %10s %10s | %6.0f %6.0f %6.0f | %10s %10s\n", M[m], params[M[m] SUBSEP "heed"], params[M[m] SUBSEP "torch"], h, d, u, r(h, d), r(h, u), rss[b "heed"], rss[b "torch"], rss[b "torch-tuned"], r(rss[b "heed"], rss[b "torch"]), r(rss[b "heed"], rss[b "torch-tuned"])
      if (params[M[m] SUBSEP "heed"] != params[M[m] SUBSEP "torch"]) printf "  WARNING: %s has %s parameters in heed, %s in PyTorch\n", M[m], params[M[m] SUBSEP "heed"], params[M[m] SUBSEP "torch"]
    }
  }
  for (i = 1; i <= nt; i++) if (T[i] == 1) one = 1
  if (!one || nt < 2) exit
  for (i = 1; i <= nt; i++) if (T[i] != 1) {
    printf "\nthread scaling, %s threads / 1 thread (img/s ratio):\n%-9s", T[i], "model"
    for (j = 1; j <= nmo; j++) printf " %9s %9s %9s", "heed-" MO[j], "torch", "tuned"
    printf "\n"
    for (m = 1; m <= nm; m++) {
      printf "%-9s", M[m]
      for (j = 1; j <= nmo; j++) {
        b = T[i] SUBSEP MO[j] SUBSEP M[m] SUBSEP; o = 1 SUBSEP MO[j] SUBSEP M[m] SUBSEP
        printf " %9s %9s %9s", r(med(ips[b "heed"]), med(ips[o "heed"])), r(med(ips[b "torch"]), med(ips[o "torch"])), r(med(ips[b "torch-tuned"]), med(ips[o "torch-tuned"]))
      }
      printf "\n"
    }
  }
}' "$RAW"
echo
echo "raw lines: $RAW; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
