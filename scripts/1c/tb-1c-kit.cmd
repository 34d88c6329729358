@echo off
rem TelephonyBridge on a real 1C platform, Windows: the release gate (docs/development.md, "Proverka na platforme 1C").
rem The same steps, in the same order and with the same keys, as tb-1c-kit.sh: read its header for what each
rem step does, where every key comes from, the options and the exit codes. tests/release_kit.rs compares the two
rem step lists and runs this file under Wine's cmd against a fake 1cv8.exe/ibcmd.exe: its calls equal the bash
rem kit's. This file is kept in UTF-8 with CRLF line ends; it switches the console to UTF-8 (chcp 65001).
rem
rem   scripts\1c\tb-1c-kit.cmd --v8 "C:\Program Files\1cv8\<version>\bin\1cv8.exe" [--bsp <file.cf or dump dir>]
rem        [--bare DIR] [--dist DIR] [--ibcmd PATH] [--work DIR] [--variant-bare V] [--variant-bsp V]
rem        [--step-timeout SEC (accepted, not applied on Windows)] [--detect-variant DIR]
rem
rem Exit code: 0 both bases passed every step; 1 a step failed; 2 wrong arguments or a missing file;
rem 3 every step passed but the BSP base was not given. Paths must not contain "&" or "!".
setlocal EnableExtensions DisableDelayedExpansion
chcp 65001 >nul
set "ROOT=%~dp0..\.."
for %%I in ("%ROOT%") do set "ROOT=%%~fI"
set "EXTENSION=TelephonyBridge"
set "V8="
set "BSP="
set "BARE=%ROOT%\tests\fixtures\bases\bare"
set "DIST=%ROOT%\target\dist"
set "IBCMD="
set "WORK=%ROOT%\target\1c-kit"
set "VARIANT_BARE="
set "VARIANT_BSP="
set "STEP_TIMEOUT=3600"

:parse
if "%~1"=="" goto parsed
if /i "%~1"=="--v8" (set "V8=%~2" & shift & shift & goto parse)
if /i "%~1"=="--bsp" (set "BSP=%~2" & shift & shift & goto parse)
if /i "%~1"=="--bare" (set "BARE=%~2" & shift & shift & goto parse)
if /i "%~1"=="--dist" (set "DIST=%~2" & shift & shift & goto parse)
if /i "%~1"=="--ibcmd" (set "IBCMD=%~2" & shift & shift & goto parse)
if /i "%~1"=="--work" (set "WORK=%~2" & shift & shift & goto parse)
if /i "%~1"=="--variant-bare" (set "VARIANT_BARE=%~2" & shift & shift & goto parse)
if /i "%~1"=="--variant-bsp" (set "VARIANT_BSP=%~2" & shift & shift & goto parse)
if /i "%~1"=="--step-timeout" (set "STEP_TIMEOUT=%~2" & shift & shift & goto parse)
if /i "%~1"=="--detect-variant" goto detect_only
if /i "%~1"=="--help" goto usage
if /i "%~1"=="-h" goto usage
echo tb-1c-kit: unknown argument %1 (--help lists them) 1>&2
exit /b 2

:usage
echo usage: tb-1c-kit.cmd --v8 ^<1cv8.exe^> [--bsp ^<file.cf or dump dir^>] [--bare DIR] [--dist DIR] [--ibcmd PATH]
echo        [--work DIR] [--variant-bare V] [--variant-bsp V] [--detect-variant DIR]
echo The steps, options and exit codes are described in tb-1c-kit.sh next to this file.
exit /b 0

:detect_only
call :detect_variant "%~2"
if errorlevel 1 exit /b 1
echo %DETECTED%
exit /b 0

:parsed
rem Paths are echoed in quotes: a path such as "C:\Program Files (x86)\..." must not close a parenthesized block.
if not defined V8 (echo tb-1c-kit: --v8 ^<path of 1cv8.exe^> is required 1>&2 & exit /b 2)
if not exist "%V8%" (echo tb-1c-kit: 1cv8 not found: "%V8%" 1>&2 & exit /b 2)
if not defined IBCMD for %%I in ("%V8%") do set "IBCMD=%%~dpIibcmd.exe"
if not exist "%IBCMD%" (echo tb-1c-kit: ibcmd not found: "%IBCMD%" - it switches the extension's safe mode off; give its path with --ibcmd 1>&2 & exit /b 2)
if not exist "%BARE%\Configuration.xml" (echo tb-1c-kit: the bare configuration dump is missing: "%BARE%" 1>&2 & exit /b 2)
if not defined BSP goto bsp_checked
if exist "%BSP%\Configuration.xml" goto bsp_checked
if exist "%BSP%" if not exist "%BSP%\*" goto bsp_checked
echo tb-1c-kit: the BSP configuration is neither a .cf file nor a Designer dump: "%BSP%" 1>&2
exit /b 2
:bsp_checked
call :known_variant "%VARIANT_BARE%"
if errorlevel 1 exit /b 2
call :known_variant "%VARIANT_BSP%"
if errorlevel 1 exit /b 2
rem No "||" after commands here and below: errorlevel is tested explicitly, the same in every cmd.
if not exist "%WORK%" mkdir "%WORK%"
if not exist "%WORK%" (echo tb-1c-kit: cannot create "%WORK%" 1>&2 & exit /b 2)
for %%I in ("%WORK%") do set "WORK=%%~fI"
set "REPORT=%WORK%\report.md"
set "FAILED_STEPS=0"
set "SUMMARY=%WORK%\summary.tmp"
if exist "%SUMMARY%" del "%SUMMARY%"

> "%REPORT%" echo # TelephonyBridge на платформе 1С: отчёт проверки
>>"%REPORT%" echo.
>>"%REPORT%" echo - Платформа: `%V8%`; ibcmd: `%IBCMD%`
>>"%REPORT%" echo - Выгрузки расширения: `%DIST%`
>>"%REPORT%" echo - Базы: bare — `%BARE%`; bsp — `%BSP%`
>>"%REPORT%" echo - Начало: %DATE% %TIME%
>>"%REPORT%" echo.
>>"%REPORT%" echo ^| База ^| Шаг ^| Код ^| Результат ^| Журнал ^|
>>"%REPORT%" echo ^| --- ^| --- ^| --- ^| --- ^| --- ^|

call :check_base bare "%BARE%" "%VARIANT_BARE%"
if defined BSP (call :check_base bsp "%BSP%" "%VARIANT_BSP%") else (>>"%SUMMARY%" echo - **bsp**: НЕ ПРОВЕРЯЛАСЬ — не задан --bsp ^(файл .cf или выгрузка конфигурации с БСП^))

set "VERDICT=passed"
set "CODE=0"
set "TEXT=ПРОЙДЕНА: обе базы, все шаги"
if not defined BSP (set "VERDICT=incomplete" & set "CODE=3" & set "TEXT=НЕПОЛНАЯ: все шаги пройдены, но база с БСП не проверялась")
if not "%FAILED_STEPS%"=="0" (set "VERDICT=failed" & set "CODE=1" & set "TEXT=НЕ ПРОЙДЕНА")
>>"%REPORT%" echo.
>>"%REPORT%" echo ## Итог
>>"%REPORT%" echo.
type "%SUMMARY%" >>"%REPORT%"
del "%SUMMARY%"
>>"%REPORT%" echo.
>>"%REPORT%" echo Проверка %TEXT%. Конец: %DATE% %TIME%.
>>"%REPORT%" echo.
>>"%REPORT%" echo RESULT: %VERDICT%
if exist "%WORK%\bare\failure.md" type "%WORK%\bare\failure.md" >>"%REPORT%"
if exist "%WORK%\bsp\failure.md" type "%WORK%\bsp\failure.md" >>"%REPORT%"
echo tb-1c-kit: %TEXT% - %REPORT%
exit /b %CODE%

rem ---------------------------------------------------------------------------------------------------
:known_variant
if "%~1"=="" exit /b 0
set "KNOWN="
for %%K in (bsp-bpo bsp bpo bare) do if "%~1"=="%%K" set "KNOWN=1"
if defined KNOWN exit /b 0
echo tb-1c-kit: unknown variant %~1 (one of: bsp-bpo bsp bpo bare) 1>&2
exit /b 1

rem check_base <name> <configuration: dump dir or .cf> <variant override or empty>
:check_base
set "BASE=%~1"
set "BASE_DIR=%WORK%\%~1"
set "IB=%WORK%\%~1\ib"
set "SOURCE=%~2"
set "OVERRIDE=%~3"
set "BASE_FAILED="
set "VARIANT="
set "EXT_DIR="
set "STEP_NO=0"
if exist "%BASE_DIR%" rmdir /s /q "%BASE_DIR%"
mkdir "%BASE_DIR%\logs"
mkdir "%BASE_DIR%\config"
call :run_step create create CREATEINFOBASE
if not exist "%SOURCE%\Configuration.xml" goto check_base_cf
call :run_step load-config designer /LoadConfigFromFiles "%SOURCE%"
goto check_base_loaded
:check_base_cf
call :run_step load-cf designer /LoadCfg "%SOURCE%"
:check_base_loaded
call :run_step update-config designer /UpdateDBCfg
call :run_step dump-config designer /DumpConfigToFiles "%BASE_DIR%\config"
set "VARIANT_OVERRIDE=%OVERRIDE%"
call :run_step variant detect "%BASE_DIR%\config"
call :run_step load-extension designer /LoadConfigFromFiles "%EXT_DIR%" -Extension "%EXTENSION%"
call :run_step update-extension designer /UpdateDBCfg -Extension "%EXTENSION%"
call :run_step safe-mode-off ibcmd infobase config extension update "--db-path=%IB%" "--name=%EXTENSION%" "--safe-mode=no"
rem The log must have the line "safe-mode : no" (key and value between spaces and a colon, as ibcmd prints).
set "EXPECT=safe-mode : no"
call :run_step safe-mode-check ibcmd infobase config extension info "--db-path=%IB%" "--name=%EXTENSION%"
call :run_step check-apply designer /CheckCanApplyConfigurationExtensions -Extension "%EXTENSION%"
call :run_step check-modules designer /CheckModules -ThinClient -Server -ExternalConnection -Extension "%EXTENSION%"
call :run_step check-config designer /CheckConfig -ConfigLogIntegrity -IncorrectReferences -ThinClient -Server ^
    -ExternalConnection -HandlersExistence -ExtendedModulesCheck -Extension "%EXTENSION%"
if defined BASE_FAILED (>>"%SUMMARY%" echo - **%BASE%** ^(вариант расширения `%VARIANT%`^): НЕ ПРОЙДЕНА — шаг `%BASE_FAILED%`, журнал и последние строки ниже) else (>>"%SUMMARY%" echo - **%BASE%** ^(вариант расширения `%VARIANT%`^): все шаги пройдены)
exit /b 0

rem run_step <id> <kind> <args...>: kind create (1cv8 CREATEINFOBASE File="<ib>"), designer (1cv8 DESIGNER
rem /F <ib> ...), ibcmd (output into the log) or detect (the variant from the dump). As in tb-1c-kit.sh.
:run_step
set "ID=%~1"
set "KIND=%~2"
set /a STEP_NO+=1
set "N=0%STEP_NO%"
set "N=%N:~-2%"
set "LOG=%BASE_DIR%\logs\%N%-%ID%.log"
set "RESULT=%BASE_DIR%\logs\%N%-%ID%.result"
set "NOTE="
if not defined BASE_FAILED goto run_step_collect
set "ROW_CODE=-"
set "ROW_STATUS=пропущен (не пройден шаг %BASE_FAILED%)"
set "ROW_LOG=-"
call :row
set "EXPECT="
exit /b 0
:run_step_collect
set "ARGS="
:run_step_args
if "%~3"=="" goto run_step_run
set ARGS=%ARGS% %3
shift /3
goto run_step_args
:run_step_run
set "CODE=0"
goto run_step_%KIND%

:run_step_create
start "" /wait "%V8%" %ARGS% File="%IB%" /Out "%LOG%" /DisableStartupDialogs
set "CODE=%ERRORLEVEL%"
goto run_step_done

:run_step_designer
start "" /wait "%V8%" DESIGNER /F "%IB%" /DisableStartupDialogs /DisableStartupMessages %ARGS% /Out "%LOG%" /DumpResult "%RESULT%"
set "CODE=%ERRORLEVEL%"
goto run_step_done

:run_step_ibcmd
"%IBCMD%" %ARGS% >"%LOG%" 2>&1
set "CODE=%ERRORLEVEL%"
goto run_step_done

:run_step_detect
call :detect_variant %ARGS% 2>"%LOG%"
set "CODE=%ERRORLEVEL%"
set "VARIANT=%DETECTED%"
if "%CODE%"=="0" set "NOTE=по модулю приложения: %DETECTED%"
if defined VARIANT_OVERRIDE (set "VARIANT=%VARIANT_OVERRIDE%" & set "CODE=0" & set "NOTE=задан вручную: %VARIANT_OVERRIDE%; по модулю приложения: %DETECTED%")
set "VARIANT_OVERRIDE="
>>"%LOG%" echo %NOTE%
set "EXT_DIR=%DIST%\%EXTENSION%-extension-%VARIANT%"
if not "%CODE%"=="0" goto run_step_done
if exist "%EXT_DIR%\Configuration.xml" goto run_step_done
>>"%LOG%" echo нет выгрузки расширения %EXT_DIR%: соберите пакет (cargo run --release -p package) или распакуйте %EXTENSION%-extension-%VARIANT%.zip из релиза в %DIST%
set "CODE=1"
goto run_step_done

:run_step_done
set "ROW_STATUS=пройден"
if not "%CODE%"=="0" set "ROW_STATUS=не пройден: код %CODE%"
if not "%CODE%"=="0" goto run_step_status
if not "%KIND%"=="designer" goto run_step_expect
if not exist "%RESULT%" (set "CODE=1" & set "ROW_STATUS=не пройден: нет файла /DumpResult" & goto run_step_status)
rem The platform writes the result code alone. Passed: the first line is "0", possibly after a byte order mark
rem (whatever stands before the last character holds no digit). Plain cmd only, no findstr: the same test
rem then runs under Wine's cmd in tests/release_kit.rs.
set "DUMPED="
for /f "usebackq delims=" %%R in ("%RESULT%") do if not defined DUMPED set "DUMPED=%%R"
if not defined DUMPED set "DUMPED=пусто"
set "DUMPED=%DUMPED: =%"
set "DIGIT=%DUMPED:~-1%"
set "BEFORE=%DUMPED:~0,-1%"
set "STRIPPED=%BEFORE%"
if defined BEFORE for %%D in (0 1 2 3 4 5 6 7 8 9) do call set "STRIPPED=%%STRIPPED:%%D=%%"
if "%DIGIT%"=="0" if "%STRIPPED%"=="%BEFORE%" goto run_step_expect
set "CODE=1"
set "ROW_STATUS=не пройден: /DumpResult = %DUMPED%"
goto run_step_status
:run_step_expect
if not defined EXPECT goto run_step_status
set "FOUND="
for /f "tokens=1,2 delims=: " %%K in ("%EXPECT%") do (set "EXPECT_KEY=%%K" & set "EXPECT_VALUE=%%L")
for /f "usebackq tokens=1,2 delims=: " %%K in ("%LOG%") do if "%%K"=="%EXPECT_KEY%" if "%%L"=="%EXPECT_VALUE%" set "FOUND=1"
if not defined FOUND (set "CODE=1" & set "ROW_STATUS=не пройден: в выводе нет строки «%EXPECT%»")
:run_step_status
set "EXPECT="
if defined NOTE set "ROW_STATUS=%ROW_STATUS% (%NOTE%)"
set "ROW_CODE=%CODE%"
set "ROW_LOG=%BASE%\logs\%N%-%ID%.log"
call :row
if "%CODE%"=="0" exit /b 0
set "BASE_FAILED=%ID%"
set /a FAILED_STEPS+=1
>>"%BASE_DIR%\failure.md" echo.
>>"%BASE_DIR%\failure.md" echo ^<details^>^<summary^>%BASE% / %ID%: последние строки журнала^</summary^>
>>"%BASE_DIR%\failure.md" echo.
>>"%BASE_DIR%\failure.md" echo ```
powershell -NoProfile -ExecutionPolicy Bypass -Command "if (Test-Path -LiteralPath $env:LOG) { Get-Content -LiteralPath $env:LOG -Tail 30 }" >>"%BASE_DIR%\failure.md" 2>nul
>>"%BASE_DIR%\failure.md" echo ```
>>"%BASE_DIR%\failure.md" echo.
>>"%BASE_DIR%\failure.md" echo ^</details^>
exit /b 0

:row
>>"%REPORT%" echo ^| %BASE% ^| %ID% ^| %ROW_CODE% ^| %ROW_STATUS% ^| %ROW_LOG% ^|
exit /b 0

rem detect_variant <dump dir>: sets DETECTED to bsp-bpo, bsp, bpo or bare from which of the application-module
rem events the dump's Ext\ManagedApplicationModule.bsl declares - the same rule as detect_variant in
rem tb-1c-kit.sh. The names are written as \u escapes for the .NET regex (so this file's encoding cannot change
rem them): \u041f\u0440\u0438... = ПриНачалеРаботыСистемы, \u041e\u0431\u0440... = ОбработкаВнешнегоСобытия,
rem \u0410\u0441\u0438\u043d\u0445 = Асинх, \u041f\u0440\u043e\u0446\u0435\u0434\u0443\u0440\u0430 = Процедура,
rem \u0424\u0443\u043d\u043a\u0446\u0438\u044f = Функция. errorlevel 1 when it cannot tell.
:detect_variant
set "DETECTED="
set "TB_DUMP=%~1"
for /f "usebackq delims=" %%V in (`powershell -NoProfile -ExecutionPolicy Bypass -Command "$d=$env:TB_DUMP; if (-not (Test-Path -LiteralPath (Join-Path $d 'Configuration.xml'))) { [Console]::Error.WriteLine('нет ' + $d + '\Configuration.xml: это не выгрузка конфигурации'); exit 1 }; $m=Join-Path $d 'Ext\ManagedApplicationModule.bsl'; $t=''; if (Test-Path -LiteralPath $m) { $t=[IO.File]::ReadAllText($m, [Text.Encoding]::UTF8) }; $o=[Text.RegularExpressions.RegexOptions]'IgnoreCase, Multiline'; $p='^\s*(\u0410\u0441\u0438\u043d\u0445\s+)?\u041f\u0440\u043e\u0446\u0435\u0434\u0443\u0440\u0430\s+'; $s=[regex]::IsMatch($t, $p + '\u041f\u0440\u0438\u041d\u0430\u0447\u0430\u043b\u0435\u0420\u0430\u0431\u043e\u0442\u044b\u0421\u0438\u0441\u0442\u0435\u043c\u044b\s*\(', $o); $e=[regex]::IsMatch($t, $p + '\u041e\u0431\u0440\u0430\u0431\u043e\u0442\u043a\u0430\u0412\u043d\u0435\u0448\u043d\u0435\u0433\u043e\u0421\u043e\u0431\u044b\u0442\u0438\u044f\s*\(', $o); if (-not $s -and -not $e -and [regex]::IsMatch($t, '^\s*(Async\s+)?(Procedure|Function)\s', $o) -and -not [regex]::IsMatch($t, '^\s*(\u0410\u0441\u0438\u043d\u0445\s+)?(\u041f\u0440\u043e\u0446\u0435\u0434\u0443\u0440\u0430|\u0424\u0443\u043d\u043a\u0446\u0438\u044f)\s', $o)) { [Console]::Error.WriteLine($m + ': английский вариант встроенного языка, задайте вариант вручную (--variant-bare/--variant-bsp)'); exit 1 }; if ($s -and $e) { 'bsp-bpo' } elseif ($s) { 'bsp' } elseif ($e) { 'bpo' } else { 'bare' }"`) do set "DETECTED=%%V"
if not defined DETECTED exit /b 1
exit /b 0
