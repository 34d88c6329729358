#!/usr/bin/env bash
# A stand-in for 1cv8 and ibcmd for tests/release_kit.rs (never for anything else): installed under both names
# next to each other, it records every call (arguments separated by \x1f, one call a line) in $FAKE_1C_LOG and
# keeps just enough state in the infobase directory to answer like the platform where the kit depends on it:
#   1cv8 CREATEINFOBASE File="<dir>"          creates <dir>
#   DESIGNER /LoadConfigFromFiles <dump>      the base's configuration (no -Extension) or the extension (with)
#   DESIGNER /LoadCfg <file.cf>               the base's configuration; the fake .cf holds the text of its
#                                             application module
#   DESIGNER /DumpConfigToFiles <dir>         Configuration.xml and Ext/ManagedApplicationModule.bsl of it
#   DESIGNER /UpdateDBCfg -Extension, /Check* need the extension loaded
#   ibcmd … extension update --safe-mode=no   remembers it; `extension info` prints `safe-mode : yes|no`
# /Out <file> and /DumpResult <file> are written as the platform does (the result code, 0 on success).
#
# Faults (the kit's mutation tests): FAKE_1C_FAIL="<base>:<key>:<how>" makes the call whose arguments contain
# <key> (e.g. /CheckModules, --safe-mode=no) in base <base> (bare or bsp: the infobase path's parent dir)
# fail; <how> is an exit code (the /DumpResult file then says 1) or `dumpresult` (exit 0, /DumpResult 1).
# FAKE_IBCMD_IGNORE_SAFE_MODE=1: `extension update` exits 0 and changes nothing.
set -u

printf '%s\x1f' "$(basename "$0")" "$@" >>"${FAKE_1C_LOG:?FAKE_1C_LOG is not set}"
echo >>"$FAKE_1C_LOG"

out="" result="" ib="" command="" extension=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    a=${args[i]}
    next=${args[i + 1]:-}
    case $a in
        /Out) out=$next ;;
        /DumpResult) result=$next ;;
        /F) ib=$next ;;
        -Extension) extension=$next ;;
        --db-path=*) ib=${a#--db-path=} ;;
        File=*) ib=${a#File=}; ib=${ib#\"}; ib=${ib%\"} ;;
        /LoadConfigFromFiles | /LoadCfg | /DumpConfigToFiles | /UpdateDBCfg | /CheckModules | /CheckConfig | \
            /CheckCanApplyConfigurationExtensions)
            [ -n "$command" ] || command=$a
            ;;
    esac
done
base=$(basename "$(dirname "$ib")")

finish() { # finish <code> [message]
    local code=$1 dumped=$1
    [ $# -lt 2 ] || { if [ -n "$out" ]; then echo "$2" >>"$out"; else echo "$2"; fi; }
    if [ -n "${FAKE_1C_FAIL:-}" ]; then
        local fbase=${FAKE_1C_FAIL%%:*} rest=${FAKE_1C_FAIL#*:}
        local fkey=${rest%%:*} how=${rest#*:}
        if [ "$fbase" = "$base" ] && [[ " ${args[*]} " == *" $fkey "* || " ${args[*]} " == *" $fkey="* ]]; then
            if [ -n "$out" ]; then echo "Ошибка (подстроено тестом): $fkey" >>"$out"; fi
            if [ "$how" = dumpresult ]; then dumped=1; code=0; else code=$how; dumped=1; fi
        fi
    fi
    [ -z "$result" ] || echo "$dumped" >"$result"
    exit "$code"
}

[ -z "$out" ] || : >"$out"

case $(basename "$0") in
    ibcmd)
        [ -f "$ib/.fake-extension" ] || finish 1 "Расширение не найдено"
        case " $* " in
            *" extension update "*)
                if [[ " $* " == *" --safe-mode=no "* ]] && [ -z "${FAKE_IBCMD_IGNORE_SAFE_MODE:-}" ]; then
                    echo no >"$ib/.fake-safe-mode"
                fi
                finish 0
                ;;
            *" extension info "*)
                printf 'name                         : "TelephonyBridge"\n'
                printf 'active                       : yes\n'
                printf 'safe-mode                    : %s\n' "$(cat "$ib/.fake-safe-mode" 2>/dev/null || echo yes)"
                printf 'unsafe-action-protection     : yes\n'
                finish 0
                ;;
        esac
        finish 1 "неизвестная команда ibcmd"
        ;;
esac

case ${1:-} in
    CREATEINFOBASE)
        mkdir -p "$ib" && : >"$ib/1Cv8.1CD"
        finish 0 "Информационная база создана"
        ;;
    DESIGNER) ;;
    *) finish 1 "неизвестный режим ${1:-}" ;;
esac
[ -f "$ib/1Cv8.1CD" ] || finish 1 "Информационная база не обнаружена: $ib"
case $command in
    /LoadConfigFromFiles)
        src=""
        for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[i]}" != /LoadConfigFromFiles ] || src=${args[i + 1]}; done
        [ -f "$src/Configuration.xml" ] || finish 1 "Ошибка загрузки конфигурации из файлов: нет $src/Configuration.xml"
        if [ -n "$extension" ]; then echo "$src" >"$ib/.fake-extension"; else echo "$src" >"$ib/.fake-config"; fi
        finish 0
        ;;
    /LoadCfg)
        for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[i]}" != /LoadCfg ] || echo "${args[i + 1]}" >"$ib/.fake-config"; done
        finish 0
        ;;
    /DumpConfigToFiles)
        for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[i]}" != /DumpConfigToFiles ] || dump=${args[i + 1]}; done
        src=$(cat "$ib/.fake-config" 2>/dev/null) || finish 1 "в базе нет конфигурации"
        mkdir -p "$dump/Ext"
        if [ -d "$src" ]; then
            cp "$src/Configuration.xml" "$dump/"
            [ ! -f "$src/Ext/ManagedApplicationModule.bsl" ] || cp "$src/Ext/ManagedApplicationModule.bsl" "$dump/Ext/"
        else
            echo '<MetaDataObject/>' >"$dump/Configuration.xml"
            [ ! -s "$src" ] || cp "$src" "$dump/Ext/ManagedApplicationModule.bsl"
        fi
        finish 0
        ;;
    /UpdateDBCfg | /CheckModules | /CheckConfig | /CheckCanApplyConfigurationExtensions)
        if [ -n "$extension" ] || [ "$command" != /UpdateDBCfg ]; then
            [ -f "$ib/.fake-extension" ] || finish 1 "Расширение конфигурации $extension не найдено"
        fi
        finish 0
        ;;
esac
finish 1 "неизвестная команда"
