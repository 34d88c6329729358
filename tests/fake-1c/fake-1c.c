/* A stand-in for 1cv8.exe and ibcmd.exe for tests/release_kit.rs (never for anything else): the Windows twin
 * of fake-1c.sh, so that scripts/1c/tb-1c-kit.cmd can run under Wine's cmd. Built with MinGW-w64 by the test
 * and installed under both names; it behaves as fake-1c.sh does (read its header): records every call
 * (program name and arguments separated by \x1f, one call a line) in %FAKE_1C_LOG%, keeps the base's state
 * in files inside the infobase directory, writes /Out and /DumpResult, and honours FAKE_1C_FAIL and
 * FAKE_IBCMD_IGNORE_SAFE_MODE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

static const char *out_path, *result_path, *command, *extension;
static char ib[MAX_PATH], base[MAX_PATH];
static int argc_, is_ibcmd;
static char **argv_;

static void say(const char *msg) {
    FILE *f = out_path ? fopen(out_path, "a") : stdout;
    if (!f) return;
    fprintf(f, "%s\n", msg);
    if (out_path) fclose(f);
}

static int has_word(const char *word) {
    size_t n = strlen(word);
    for (int i = 1; i < argc_; i++) {
        if (strcmp(argv_[i], word) == 0) return 1;
        if (strncmp(argv_[i], word, n) == 0 && argv_[i][n] == '=') return 1;
    }
    return 0;
}

static void finish(int code, const char *msg) {
    int dumped = code;
    if (msg) say(msg);
    const char *fail = getenv("FAKE_1C_FAIL");
    if (fail && *fail) {
        char spec[512], *fbase, *fkey, *how;
        snprintf(spec, sizeof spec, "%s", fail);
        fbase = strtok(spec, ":");
        fkey = strtok(NULL, ":");
        how = strtok(NULL, "");
        if (fbase && fkey && how && strcmp(fbase, base) == 0 && has_word(fkey)) {
            char line[600];
            snprintf(line, sizeof line, "Ошибка (подстроено тестом): %s", fkey);
            say(line);
            dumped = 1;
            code = strcmp(how, "dumpresult") == 0 ? 0 : atoi(how);
        }
    }
    if (result_path) {
        FILE *f = fopen(result_path, "w");
        if (f) {
            fprintf(f, "%d\n", dumped);
            fclose(f);
        }
    }
    exit(code);
}

static int exists(const char *dir, const char *name) {
    char p[MAX_PATH];
    snprintf(p, sizeof p, "%s\\%s", dir, name);
    return GetFileAttributesA(p) != INVALID_FILE_ATTRIBUTES;
}

static void write_state(const char *name, const char *value) {
    char p[MAX_PATH];
    snprintf(p, sizeof p, "%s\\%s", ib, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(value, f);
        fclose(f);
    }
}

static int read_state(const char *name, char *buf, size_t n) {
    char p[MAX_PATH];
    snprintf(p, sizeof p, "%s\\%s", ib, name);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    size_t got = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[got] = 0;
    return 1;
}

static void strip_quotes(char *s) {
    char *w = s;
    for (char *r = s; *r; r++)
        if (*r != '"') *w++ = *r;
    *w = 0;
}

static const char *after(const char *key) {
    for (int i = 1; i + 1 < argc_; i++)
        if (strcmp(argv_[i], key) == 0) return argv_[i + 1];
    return NULL;
}

int main(int argc, char **argv) {
    argc_ = argc;
    argv_ = argv;
    char prog[MAX_PATH];
    snprintf(prog, sizeof prog, "%s", argv[0]);
    char *slash = strrchr(prog, '\\');
    char *name = slash ? slash + 1 : prog;
    char *dot = strrchr(name, '.');
    if (dot) *dot = 0;
    is_ibcmd = _stricmp(name, "ibcmd") == 0;

    const char *log = getenv("FAKE_1C_LOG");
    if (!log) return 70;
    FILE *lf = fopen(log, "a");
    if (!lf) return 71;
    fputs(name, lf);
    fputc('\x1f', lf);
    for (int i = 1; i < argc; i++) {
        fputs(argv[i], lf);
        fputc('\x1f', lf);
    }
    fputc('\n', lf);
    fclose(lf);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(a, "/Out") == 0) out_path = next;
        else if (strcmp(a, "/DumpResult") == 0) result_path = next;
        else if (strcmp(a, "/F") == 0) snprintf(ib, sizeof ib, "%s", next);
        else if (strcmp(a, "-Extension") == 0) extension = next;
        else if (strncmp(a, "--db-path=", 10) == 0) snprintf(ib, sizeof ib, "%s", a + 10);
        else if (strncmp(a, "File=", 5) == 0) snprintf(ib, sizeof ib, "%s", a + 5);
        else if (!command && (strcmp(a, "/LoadConfigFromFiles") == 0 || strcmp(a, "/LoadCfg") == 0 ||
                              strcmp(a, "/DumpConfigToFiles") == 0 || strcmp(a, "/UpdateDBCfg") == 0 ||
                              strcmp(a, "/CheckModules") == 0 || strcmp(a, "/CheckConfig") == 0 ||
                              strcmp(a, "/CheckCanApplyConfigurationExtensions") == 0))
            command = a;
    }
    strip_quotes(ib);
    {
        char parent[MAX_PATH];
        snprintf(parent, sizeof parent, "%s", ib);
        char *s = strrchr(parent, '\\');
        if (s) *s = 0;
        s = strrchr(parent, '\\');
        snprintf(base, sizeof base, "%s", s ? s + 1 : parent);
    }
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (f) fclose(f);
    }

    if (is_ibcmd) {
        if (!exists(ib, ".fake-extension")) finish(1, "Расширение не найдено");
        if (has_word("update")) {
            if (has_word("--safe-mode=no") && !getenv("FAKE_IBCMD_IGNORE_SAFE_MODE")) write_state(".fake-safe-mode", "no");
            finish(0, NULL);
        }
        if (has_word("info")) {
            char mode[16] = "yes";
            if (read_state(".fake-safe-mode", mode, sizeof mode)) mode[strcspn(mode, "\r\n")] = 0;
            printf("name                         : \"TelephonyBridge\"\nactive                       : yes\n");
            printf("safe-mode                    : %s\nunsafe-action-protection     : yes\n", mode);
            fflush(stdout);
            finish(0, NULL);
        }
        finish(1, "неизвестная команда ibcmd");
    }

    if (argc > 1 && strcmp(argv[1], "CREATEINFOBASE") == 0) {
        CreateDirectoryA(ib, NULL);
        write_state("1Cv8.1CD", "");
        finish(0, "Информационная база создана");
    }
    if (argc < 2 || strcmp(argv[1], "DESIGNER") != 0) finish(1, "неизвестный режим");
    if (!exists(ib, "1Cv8.1CD")) finish(1, "Информационная база не обнаружена");
    if (!command) finish(1, "неизвестная команда");
    if (strcmp(command, "/LoadConfigFromFiles") == 0) {
        const char *src = after("/LoadConfigFromFiles");
        if (!src || !exists(src, "Configuration.xml")) finish(1, "Ошибка загрузки конфигурации из файлов");
        write_state(extension ? ".fake-extension" : ".fake-config", src);
        finish(0, NULL);
    }
    if (strcmp(command, "/LoadCfg") == 0) {
        write_state(".fake-config", after("/LoadCfg"));
        finish(0, NULL);
    }
    if (strcmp(command, "/DumpConfigToFiles") == 0) {
        const char *dump = after("/DumpConfigToFiles");
        char src[MAX_PATH], p[MAX_PATH], q[MAX_PATH];
        if (!read_state(".fake-config", src, sizeof src)) finish(1, "в базе нет конфигурации");
        CreateDirectoryA(dump, NULL);
        snprintf(p, sizeof p, "%s\\Ext", dump);
        CreateDirectoryA(p, NULL);
        snprintf(q, sizeof q, "%s\\Configuration.xml", dump);
        DWORD attr = GetFileAttributesA(src);
        if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY)) {
            snprintf(p, sizeof p, "%s\\Configuration.xml", src);
            CopyFileA(p, q, FALSE);
            snprintf(p, sizeof p, "%s\\Ext\\ManagedApplicationModule.bsl", src);
            snprintf(q, sizeof q, "%s\\Ext\\ManagedApplicationModule.bsl", dump);
            CopyFileA(p, q, FALSE);
        } else {
            FILE *f = fopen(q, "w");
            if (f) {
                fputs("<MetaDataObject/>\n", f);
                fclose(f);
            }
            snprintf(q, sizeof q, "%s\\Ext\\ManagedApplicationModule.bsl", dump);
            CopyFileA(src, q, FALSE);
        }
        finish(0, NULL);
    }
    if (extension || strcmp(command, "/UpdateDBCfg") != 0) {
        if (!exists(ib, ".fake-extension")) finish(1, "Расширение конфигурации не найдено");
    }
    finish(0, NULL);
    return 0;
}
