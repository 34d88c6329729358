# shellcheck shell=bash disable=SC2154,SC2034
# What the mutation scripts (scripts/mutants-*.sh) share: a fresh copy of the tree for each mutant, the literal
# replacement that plants the defect, and the check that it was planted. Sourced, never run; the caller sets `repo`
# (the tree, also the current directory), `copy` (an empty temporary directory it removes on exit) and
# `survived=0`, and these functions set `survived=1` when a mutant cannot be planted or survives.

# mutants_start: the temporary directory the mutants are planted in (removed on exit), and no mutant survived yet.
mutants_start() {
    copy=$(mktemp -d)
    trap 'rm -rf "$copy"' EXIT
    survived=0
}

# mutants_fresh_copy EXCLUDE: $copy emptied and filled with the tree's tracked and untracked-but-not-ignored files,
# without those matching EXCLUDE (a grep pattern: `^target/`).
mutants_fresh_copy() {
    rm -rf "${copy:?}"/*
    git ls-files -z -co --exclude-standard | grep -zv "$1" | tar --null -T - -cf - | tar -xf - -C "$copy"
}

# mutants_replace FILE FROM TO: the first FROM (a literal text) becomes TO in FILE of the copy.
mutants_replace() {
    FROM="$2" TO="$3" perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$copy/$1"
}

# mutants_not_planted NAME FILE: true (after saying so and marking the run failed) when FILE of the copy is still
# the tree's, i.e. the code the mutant patches has moved.
mutants_not_planted() {
    if cmp -s "$repo/$2" "$copy/$2"; then
        echo "NOT PLANTED: $1 ($2 no longer holds the code it patches)"
        survived=1
        return 0
    fi
    return 1
}

# mutants_verdict NAME COMMAND...: runs COMMAND (its output dropped); a mutant it passes on survived.
mutants_verdict() {
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "SURVIVED: $name"
        survived=1
    else
        echo "killed: $name"
    fi
}

# mutants_tb_calls FILE FILTER TARGET NAME FROM TO: the mutant NAME of FILE planted in a fresh copy, then the unit
# tests of tb-calls that match FILTER run there (built in TARGET). A mutant that does not build proves nothing about
# the tests: it counts as a failure of the run.
mutants_tb_calls() {
    local file=$1 filter=$2 target=$3 name=$4
    mutants_fresh_copy '^target/'
    mutants_replace "$file" "$5" "$6"
    if mutants_not_planted "$name" "$file"; then
        return
    fi
    if ! (cd "$copy" && CARGO_TARGET_DIR="$target" timeout 900 cargo test -q -p tb-calls --lib --no-run) >/dev/null 2>&1; then
        echo "DOES NOT BUILD: $name"
        survived=1
        return
    fi
    mutants_verdict "$name" mutants_in_copy env CARGO_TARGET_DIR="$target" timeout 900 cargo test -q -p tb-calls --lib "$filter"
}

# mutants_in_copy COMMAND...: COMMAND run in the copy (in a subshell, so the caller stays where it is).
mutants_in_copy() {
    (cd "$copy" && "$@")
}
