#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]        # SECONDS per target, default 60; CI runs `scripts/fuzz.sh 20`
#
# Environment: FUZZ_TARGETS (space-separated subset), FUZZ_SEED (default 1), FUZZ_SKIP_BUILD=1 (reuse
# the last build), FUZZ_BUILD_LOCK (default /tmp/swift-build.lock; builds never run two at once),
# FUZZ_EXTRA_ARGS (more libFuzzer flags, e.g. "-use_value_profile=1").
#
# Each target starts from a copy of Fuzz/Corpus/<Target> in a temporary folder, so the checked-in
# seeds never change. Crashes, timeouts and leaks go to .build-fuzz/artifacts/<Target>/; the script
# prints their paths and how to replay one, and exits 1 if any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-60}
[[ $duration =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
seed=${FUZZ_SEED:-1}
targets=${FUZZ_TARGETS:-"FuzzKeyParser FuzzCredentialFiles FuzzJSONBody"}
scratch=.build-fuzz
lock=${FUZZ_BUILD_LOCK:-/tmp/swift-build.lock}

# Longest input per target: a key is 56 bytes; config files and request bodies are small.
max_len() {
    case $1 in
        FuzzKeyParser) echo 256 ;;
        *) echo 4096 ;;
    esac
}

if [[ ${FUZZ_SKIP_BUILD:-0} != 1 ]]; then
    # Each flag is needed:
    #   --sanitize=fuzzer   tells SwiftPM that libFuzzer provides main; without it SwiftPM links each
    #                       executable with --defsym main=<Target>_main, which does not exist.
    #                       It also gives the C code (Yams' libyaml, CYaml) -fsanitize=fuzzer.
    #   -Xswiftc -sanitize=fuzzer,address
    #                       swiftc honours only the LAST -sanitize= it is given, and SwiftPM passes
    #                       one per --sanitize in a random order: `--sanitize=fuzzer --sanitize=address`
    #                       builds either without coverage or without ASan. -Xswiftc flags come last,
    #                       in compiles and links, so this single list wins.
    #   -Xcc -fsanitize=address   ASan for the C code too (clang adds up its -fsanitize flags).
    #   -Xswiftc -parse-as-library   the targets have @_cdecl entry points and no top-level code
    #                       (SwiftPM adds it for a one-file executable; this keeps it if one grows).
    build=(swift build -c release --package-path Fuzz --scratch-path "$scratch"
           --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
           -Xcc -fsanitize=address)
    # The same dependency versions as the main package.
    [[ -f Package.resolved ]] && cp Package.resolved Fuzz/Package.resolved
    mkdir -p "$scratch"
    start=$(date +%s)
    if command -v flock >/dev/null; then flock "$lock" "${build[@]}" 2>&1 | tee "$scratch/build.log"
    else "${build[@]}" 2>&1 | tee "$scratch/build.log"; fi
    echo "fuzz build: $(( $(date +%s) - start ))s (including any wait for $lock)"
    # SwiftPM also builds the parent's plugin tools with these flags; the openapi generator's own
    # main then clashes with libFuzzer's. That link fails on every build, is harmless (no fuzz target
    # uses the plugin) and does not fail the build.
    if grep -q 'swift_openapi_generator-tool.*multiple definition of .main' "$scratch/build.log"; then
        echo "note: the 'multiple definition of main' link error of swift-openapi-generator-tool above is expected"
    fi
fi
bin=$PWD/$scratch/release

work=$(mktemp -d "${TMPDIR:-/tmp}/dev-infra-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
summary=()
for target in $targets; do
    [[ -d Fuzz/Corpus/$target ]] || { echo "no corpus Fuzz/Corpus/$target" >&2; exit 2; }
    corpus=$work/$target
    artifacts=$PWD/$scratch/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    cp Fuzz/Corpus/"$target"/* "$corpus"/
    log=$work/$target.log
    echo "== $target: ${duration}s, seed $seed, max_len $(max_len "$target")"
    dict=()
    [[ -f Fuzz/Dictionaries/$target.dict ]] && dict=(-dict="Fuzz/Dictionaries/$target.dict")
    status=0
    "$bin/$target" "$corpus" "${dict[@]}" \
        -max_total_time="$duration" -seed="$seed" -max_len="$(max_len "$target")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" ${FUZZ_EXTRA_ARGS:-} >"$log" 2>&1 || status=$?
    if ! grep -q 'inline 8-bit counters' "$log"; then
        echo "$target is not instrumented for coverage (no libFuzzer counters); the build flags are wrong" >&2
        failed=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 || true)
    line="$target: ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) inputs"
    if [[ $status != 0 ]]; then
        failed=1
        # libFuzzer prints the file it wrote: "Test unit written to <path>".
        crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
        echo "--- $target failed (exit $status); the end of its log:"
        grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse|RELOAD)' "$log" | tail -40
        echo "crash file: ${crash:-unknown (see the log above)}"
        [[ -n $crash ]] && echo "replay: $bin/$target $crash"
        line="$line: FAILED, crash file ${crash:-?}"
    fi
    echo "$line"
    summary+=("$line")
done

echo
echo "== summary (${duration}s per target, seed $seed)"
printf '%s\n' "${summary[@]}"
exit $failed
