#!/usr/bin/env bash
# TelephonyBridge on a real 1C platform: the release gate (docs/development.md, «Проверка на платформе 1С»).
# The same steps, in the same order, are in tb-1c-kit.cmd for Windows (tests/release_kit.rs compares them).
#
#   scripts/1c/tb-1c-kit.sh --v8 <path of 1cv8> [--bsp <БСП: file.cf or a Designer dump dir>] [options]
#
# Two file infobases, each in <work>/<base>/ib: "bare" from the bare fixture configuration (a Designer dump,
# tests/fixtures/bases/bare) and "bsp" from the БСП configuration given with --bsp. For each base:
#
#   create            1cv8 CREATEINFOBASE File="<ib>"
#   load-config       DESIGNER /LoadConfigFromFiles <dump dir>        (the base is a Designer dump)
#   load-cf           DESIGNER /LoadCfg <file.cf>                     (the base is a .cf)
#   update-config     DESIGNER /UpdateDBCfg
#   dump-config       DESIGNER /DumpConfigToFiles <work>/<base>/config
#   variant           which of ПриНачалеРаботыСистемы / ОбработкаВнешнегоСобытия the base's
#                     Ext/ManagedApplicationModule.bsl declares → bsp-bpo, bsp, bpo or bare (--variant-* overrides)
#   load-extension    DESIGNER /LoadConfigFromFiles <dist>/TelephonyBridge-extension-<variant> -Extension TelephonyBridge
#   update-extension  DESIGNER /UpdateDBCfg -Extension TelephonyBridge
#   safe-mode-off     ibcmd infobase config extension update --db-path=<ib> --name=TelephonyBridge --safe-mode=no
#   safe-mode-check   ibcmd infobase config extension info --db-path=<ib> --name=TelephonyBridge → «safe-mode : no»
#   check-apply       DESIGNER /CheckCanApplyConfigurationExtensions -Extension TelephonyBridge
#   check-modules     DESIGNER /CheckModules -ThinClient -Server -ExternalConnection -Extension TelephonyBridge
#   check-config      DESIGNER /CheckConfig -ConfigLogIntegrity -IncorrectReferences -ThinClient -Server
#                     -ExternalConnection -HandlersExistence -ExtendedModulesCheck -Extension TelephonyBridge
#
# Every DESIGNER run gets /F <ib> /DisableStartupDialogs /DisableStartupMessages … /Out <log> /DumpResult <file>;
# a step passes when the exit code is 0 and the /DumpResult file says 0. Where the keys come from (none is
# guessed): CREATEINFOBASE File=, /Out, /LoadConfigFromFiles, /LoadCfg, /UpdateDBCfg -Extension,
# /DumpConfigToFiles, /CheckConfig and its flags, /CheckCanApplyConfigurationExtensions,
# /DisableStartupDialogs, /DisableStartupMessages — oscript-library/v8runner (src/v8runner.os), the
# library vanessa-runner drives Designer with; /CheckModules with -ThinClient -Server -ExternalConnection
# -Extension and /DumpResult — 1C's documentation of Designer's batch mode; safe mode — 1C's documentation
# of the administration utility ibcmd (`infobase config extension update … --safe-mode=no`; Designer's
# batch mode has no key for it), whose `extension info` prints `safe-mode : no` once it is off.
# Safe mode is switched off after /UpdateDBCfg -Extension, the order public CI scripts use.
#
# Options:
#   --v8 PATH            1cv8 (1cv8.exe) of the platform to check on (required)
#   --bsp PATH           the БСП configuration: a .cf file or a Designer dump dir; without it only the bare
#                        base is checked and the run is «неполный» (exit 3)
#   --bare DIR           the bare configuration dump (default: tests/fixtures/bases/bare)
#   --dist DIR           where TelephonyBridge-extension-<variant>/ are (default: target/dist; unpack the
#                        release's TelephonyBridge-extension-<variant>.zip there)
#   --ibcmd PATH         ibcmd of the same platform (default: ibcmd next to 1cv8)
#   --work DIR           infobases, dumps, logs and report.md (default: target/1c-kit; its bare/ and bsp/
#                        are recreated)
#   --variant-bare V, --variant-bsp V
#                        take variant V (bsp-bpo, bsp, bpo, bare) instead of reading the application module
#   --step-timeout SEC   stop a step after SEC seconds (default 3600, 0 = never; needs `timeout`)
#   --detect-variant DIR print the variant of the configuration dump DIR and exit
#
# Exit code: 0 every step of both bases passed; 1 a step failed (report.md says which, with its log);
# 2 wrong arguments or a missing file; 3 every step passed but the БСП base was not given.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EXTENSION=TelephonyBridge
VARIANTS="bsp-bpo bsp bpo bare"

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "tb-1c-kit: $*" >&2; exit 2; }

# The variant of the extension a base needs, from its Designer dump <dir>: which of the application-module
# events ПриНачалеРаботыСистемы / ОбработкаВнешнегоСобытия its Ext/ManagedApplicationModule.bsl declares.
# An un-annotated handler of the extension clashes with the base's, so the extension comes in one variant per
# combination (issue 15): both → bsp-bpo, the first only → bsp, the second only → bpo, neither → bare.
# 1C names are case-insensitive: grep folds case where a UTF-8 locale exists (C.UTF-8), exact spelling always
# matches. A module in the English variant of the language is refused (give the variant with --variant-*).
detect_variant() {
    local dump=$1 module="$1/Ext/ManagedApplicationModule.bsl" text="" start=0 external=0
    if [ ! -f "$dump/Configuration.xml" ]; then
        echo "нет $dump/Configuration.xml: это не выгрузка конфигурации" >&2
        return 1
    fi
    if [ -f "$module" ]; then
        text=$(LC_ALL=C sed '1s/^\xEF\xBB\xBF//' "$module")
    fi
    declares() {
        printf '%s\n' "$text" | LC_ALL=C.UTF-8 grep -Eiq \
            "^[[:space:]]*(Асинх[[:space:]]+)?Процедура[[:space:]]+$1[[:space:]]*\\("
    }
    declares 'ПриНачалеРаботыСистемы' && start=1
    declares 'ОбработкаВнешнегоСобытия' && external=1
    if [ "$start$external" = 00 ] \
        && printf '%s\n' "$text" | grep -Eiq '^[[:space:]]*(Async[[:space:]]+)?(Procedure|Function)[[:space:]]' \
        && ! printf '%s\n' "$text" | LC_ALL=C.UTF-8 grep -Eiq '^[[:space:]]*(Асинх[[:space:]]+)?(Процедура|Функция)[[:space:]]'; then
        echo "$module написан на английском варианте встроенного языка: задайте вариант вручную (--variant-bare/--variant-bsp)" >&2
        return 1
    fi
    case "$start$external" in
        11) echo bsp-bpo ;;
        10) echo bsp ;;
        01) echo bpo ;;
        *) echo bare ;;
    esac
}

V8="" BSP="" BARE="$ROOT/tests/fixtures/bases/bare" DIST="$ROOT/target/dist" IBCMD="" WORK="$ROOT/target/1c-kit"
VARIANT_BARE="" VARIANT_BSP="" STEP_TIMEOUT=3600
while [ $# -gt 0 ]; do
    case $1 in
        --v8) V8=${2:-}; shift 2 ;;
        --bsp) BSP=${2:-}; shift 2 ;;
        --bare) BARE=${2:-}; shift 2 ;;
        --dist) DIST=${2:-}; shift 2 ;;
        --ibcmd) IBCMD=${2:-}; shift 2 ;;
        --work) WORK=${2:-}; shift 2 ;;
        --variant-bare) VARIANT_BARE=${2:-}; shift 2 ;;
        --variant-bsp) VARIANT_BSP=${2:-}; shift 2 ;;
        --step-timeout) STEP_TIMEOUT=${2:-}; shift 2 ;;
        --detect-variant) detect_variant "${2:-}"; exit $? ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument $1 (--help lists them)" ;;
    esac
done

[ -n "$V8" ] || die "--v8 <path of 1cv8> is required (--help)"
[ -x "$V8" ] || die "1cv8 not found or not executable: $V8"
[ -n "$IBCMD" ] || IBCMD="$(dirname "$V8")/ibcmd"
[ -x "$IBCMD" ] || die "ibcmd not found: $IBCMD — it switches the extension's safe mode off; give its path with --ibcmd"
if [ ! -f "$BARE/Configuration.xml" ]; then
    die "the bare configuration dump is missing: $BARE (give a Designer dump with --bare)"
fi
if [ -n "$BSP" ] && [ ! -f "$BSP/Configuration.xml" ] && [ ! -f "$BSP" ]; then
    die "the БСП configuration is neither a .cf file nor a Designer dump: $BSP"
fi
for v in "$VARIANT_BARE" "$VARIANT_BSP"; do
    [ -z "$v" ] || [[ " $VARIANTS " == *" $v "* ]] || die "unknown variant $v (one of: $VARIANTS)"
done
case $STEP_TIMEOUT in '' | *[!0-9]*) die "--step-timeout takes seconds" ;; esac
mkdir -p "$WORK" || die "cannot create $WORK"
WORK=$(cd "$WORK" && pwd)
REPORT="$WORK/report.md"

run_with_timeout() {
    if [ "$STEP_TIMEOUT" -gt 0 ] && command -v timeout >/dev/null 2>&1; then
        timeout "$STEP_TIMEOUT" "$@"
    else
        "$@"
    fi
}

# State of the base being checked (check_base sets it).
BASE="" BASE_DIR="" IB="" BASE_FAILED="" VARIANT="" EXT_DIR="" STEP_NO=0
FAILED_STEPS=0
SUMMARY=()

row() { # row <step> <code> <status> <log>
    local log=${4#"$WORK/"}
    printf '| %s | %s | %s | %s | %s |\n' "$BASE" "$1" "$2" "$3" "${log:-—}" >>"$REPORT"
}

# run_step <id> <kind> <args…>: kind create (1cv8 <args> File="<ib>" /Out), designer (1cv8 DESIGNER /F <ib> …), ibcmd
# (stdout and stderr into the log) or detect (the variant from the dump <args>). After a failed step the
# base's remaining steps are reported as skipped. EXPECT_IN_LOG=<regex> makes the step fail unless its log
# has a matching line.
run_step() {
    local id=$1 kind=$2 code=0 status="пройден" note=""
    shift 2
    STEP_NO=$((STEP_NO + 1))
    local n log result
    n=$(printf '%02d' "$STEP_NO")
    log="$BASE_DIR/logs/$n-$id.log"
    result="$BASE_DIR/logs/$n-$id.result"
    if [ -n "$BASE_FAILED" ]; then
        row "$id" "—" "пропущен (не пройден шаг $BASE_FAILED)" ""
        return 0
    fi
    case $kind in
        create)
            printf '%q ' "$V8" "$@" "File=\"$IB\"" /Out "$log" /DisableStartupDialogs >"$log.command"
            run_with_timeout "$V8" "$@" "File=\"$IB\"" /Out "$log" /DisableStartupDialogs >"$log.console" 2>&1 || code=$?
            ;;
        designer)
            printf '%q ' "$V8" DESIGNER /F "$IB" /DisableStartupDialogs /DisableStartupMessages "$@" \
                /Out "$log" /DumpResult "$result" >"$log.command"
            run_with_timeout "$V8" DESIGNER /F "$IB" /DisableStartupDialogs /DisableStartupMessages "$@" \
                /Out "$log" /DumpResult "$result" >"$log.console" 2>&1 || code=$?
            ;;
        ibcmd)
            printf '%q ' "$IBCMD" "$@" >"$log.command"
            run_with_timeout "$IBCMD" "$@" >"$log" 2>&1 || code=$?
            ;;
        detect)
            printf 'detect_variant %q' "$1" >"$log.command"
            VARIANT=$(detect_variant "$1" 2>"$log") || code=$?
            local detected=$VARIANT
            local override=${VARIANT_OVERRIDE:-}
            if [ -n "$override" ]; then
                VARIANT=$override
                code=0
                note="задан вручную: $override; по модулю приложения: ${detected:-не определён}"
            elif [ "$code" -eq 0 ]; then
                note="по модулю приложения: $VARIANT"
            fi
            echo "$note" >>"$log"
            EXT_DIR="$DIST/$EXTENSION-extension-$VARIANT"
            if [ "$code" -eq 0 ] && [ ! -f "$EXT_DIR/Configuration.xml" ]; then
                echo "нет выгрузки расширения $EXT_DIR: соберите пакет (cargo run --release -p package) или распакуйте $EXTENSION-extension-$VARIANT.zip из релиза в $DIST" >>"$log"
                code=1
            fi
            ;;
        *) die "internal: unknown step kind $kind" ;;
    esac
    if [ "$code" -eq 124 ] && [ "$kind" != detect ] && [ "$STEP_TIMEOUT" -gt 0 ]; then
        status="не пройден: не завершился за $STEP_TIMEOUT с"
    elif [ "$code" -ne 0 ]; then
        status="не пройден: код $code"
    fi
    if [ "$code" -eq 0 ] && [ "$kind" = designer ]; then
        local dumped
        dumped=$(tr -d ' \r\n\357\273\277' <"$result" 2>/dev/null) || dumped=""
        if [ ! -f "$result" ]; then
            code=1
            status="не пройден: нет файла /DumpResult"
        elif [ "$dumped" != 0 ]; then
            code=1
            status="не пройден: /DumpResult = ${dumped:-пусто}"
        fi
    fi
    if [ "$code" -eq 0 ] && [ -n "${EXPECT_IN_LOG:-}" ] && ! grep -Eq "$EXPECT_IN_LOG" "$log" 2>/dev/null; then
        code=1
        status="не пройден: в выводе нет строки /$EXPECT_IN_LOG/"
    fi
    [ -z "$note" ] || status="$status ($note)"
    row "$id" "$code" "$status" "$log"
    if [ "$code" -ne 0 ]; then
        BASE_FAILED=$id
        FAILED_STEPS=$((FAILED_STEPS + 1))
        {
            echo
            echo "<details><summary>$BASE / $id: последние строки журнала</summary>"
            echo
            echo '```'
            tail -n 30 "$log" 2>/dev/null | iconv -f UTF-8 -t UTF-8 -c 2>/dev/null || true
            tail -n 10 "$log.console" 2>/dev/null || true
            echo '```'
            echo
            echo '</details>'
            echo
        } >>"$BASE_DIR/failure.md"
    fi
}

# check_base <name> <configuration: dump dir or .cf> <variant override or empty>
check_base() {
    BASE=$1
    BASE_DIR="$WORK/$1"
    IB="$BASE_DIR/ib"
    BASE_FAILED="" VARIANT="" EXT_DIR="" STEP_NO=0
    local source=$2 override=$3
    rm -rf "$BASE_DIR"
    mkdir -p "$BASE_DIR/logs" "$BASE_DIR/config"
    run_step create create CREATEINFOBASE
    if [ -d "$source" ]; then
        run_step load-config designer /LoadConfigFromFiles "$source"
    else
        run_step load-cf designer /LoadCfg "$source"
    fi
    run_step update-config designer /UpdateDBCfg
    run_step dump-config designer /DumpConfigToFiles "$BASE_DIR/config"
    VARIANT_OVERRIDE=$override run_step variant detect "$BASE_DIR/config"
    run_step load-extension designer /LoadConfigFromFiles "$EXT_DIR" -Extension "$EXTENSION"
    run_step update-extension designer /UpdateDBCfg -Extension "$EXTENSION"
    run_step safe-mode-off ibcmd infobase config extension update "--db-path=$IB" "--name=$EXTENSION" --safe-mode=no
    EXPECT_IN_LOG='^[[:space:]]*safe-mode[[:space:]]*:[[:space:]]*no[[:space:]]*$' \
        run_step safe-mode-check ibcmd infobase config extension info "--db-path=$IB" "--name=$EXTENSION"
    run_step check-apply designer /CheckCanApplyConfigurationExtensions -Extension "$EXTENSION"
    run_step check-modules designer /CheckModules -ThinClient -Server -ExternalConnection -Extension "$EXTENSION"
    run_step check-config designer /CheckConfig -ConfigLogIntegrity -IncorrectReferences -ThinClient -Server \
        -ExternalConnection -HandlersExistence -ExtendedModulesCheck -Extension "$EXTENSION"
    if [ -n "$BASE_FAILED" ]; then
        SUMMARY+=("- **$BASE** (вариант расширения \`${VARIANT:-не определён}\`): НЕ ПРОЙДЕНА — шаг \`$BASE_FAILED\`, журнал и последние строки ниже")
    else
        SUMMARY+=("- **$BASE** (вариант расширения \`$VARIANT\`): все шаги пройдены")
    fi
}

{
    echo "# TelephonyBridge на платформе 1С: отчёт проверки"
    echo
    echo "- Платформа: \`$V8\`; ibcmd: \`$IBCMD\`"
    echo "- Выгрузки расширения: \`$DIST\`"
    echo "- Базы: bare — \`$BARE\`; bsp — \`${BSP:-не задана}\`"
    echo "- Начало: $(date '+%Y-%m-%d %H:%M:%S %z')"
    echo
    echo "| База | Шаг | Код | Результат | Журнал |"
    echo "| --- | --- | --- | --- | --- |"
} >"$REPORT"

check_base bare "$BARE" "$VARIANT_BARE"
if [ -n "$BSP" ]; then
    check_base bsp "$BSP" "$VARIANT_BSP"
else
    SUMMARY+=("- **bsp**: НЕ ПРОВЕРЯЛАСЬ — не задан --bsp (файл .cf или выгрузка конфигурации с БСП)")
fi

if [ "$FAILED_STEPS" -gt 0 ]; then
    verdict=failed
    code=1
    text="НЕ ПРОЙДЕНА"
elif [ -z "$BSP" ]; then
    verdict=incomplete
    code=3
    text="НЕПОЛНАЯ: все шаги пройдены, но база с БСП не проверялась"
else
    verdict=passed
    code=0
    text="ПРОЙДЕНА: обе базы, все шаги"
fi
{
    echo
    echo "## Итог"
    echo
    printf '%s\n' "${SUMMARY[@]}"
    echo
    echo "Проверка $text. Конец: $(date '+%Y-%m-%d %H:%M:%S %z')."
    echo
    echo "RESULT: $verdict"
    for base in bare bsp; do
        [ ! -f "$WORK/$base/failure.md" ] || cat "$WORK/$base/failure.md"
    done
} >>"$REPORT"
echo "tb-1c-kit: $text — $REPORT"
exit "$code"
