//! The loadable configuration extension, in one variant per kind of base:
//! `target/dist/TelephonyBridge-extension-<variant>/` (the Designer dump of `bsl-examples/extension/` with the
//! freshly built add-in package as the common template `ТБ_TelephonyBridge`) and the same tree as
//! `target/dist/TelephonyBridge-extension-<variant>.zip`.
//!
//! Why variants. The extension's application module extends the base's, and no single form of its two session
//! handlers applies to every base: a handler without annotation does not compile where the base's application module
//! has one of that name («Процедура или функция с указанным именем уже определена»), and `&После("<имя>")` on a
//! method the base lacks is refused when the extension is applied in 1С:Предприятие mode on 8.3.22+ («Не найден
//! метод …, указанный в аннотации метода …»). So the package writes the module once per combination of the two
//! handlers a base may declare ([`Variant`]); [`variant_for`] reads a base's application module and names the one
//! it needs. The source tree holds the [`Variant::Bare`] form (both handlers own), the one the analyzers can check
//! as a whole module; [`application_module`] derives the others from it.
//!
//! The source tree has no `Template.bin`: the add-in package is a build product. A dump without it would still
//! load (a real dump of an empty template has no `Ext/Template.bin`: 1c-syntax/mdclasses `mdclasses_3_18`
//! `CommonTemplates/ДвоичныеДанные.xml`), but as an extension whose add-in cannot attach — so this writer, which
//! puts the package in, is the only way to a working dump.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the add-in package goes inside the dump (a template of type «Внешняя компонента» keeps the raw ZIP there:
/// 1c-syntax/mdclasses `mdclasses_3_25/src/cf/CommonTemplates/Макет8`).
pub const TEMPLATE_BIN: &str = "CommonTemplates/ТБ_TelephonyBridge/Ext/Template.bin";
/// The application module, the one file that differs between the variants.
pub const APPLICATION_MODULE: &str = "Ext/ManagedApplicationModule.bsl";
/// The names under `target/dist` are `<DUMP_PREFIX>-<variant>/` and `<DUMP_PREFIX>-<variant>.zip`.
pub const DUMP_PREFIX: &str = "TelephonyBridge-extension";
/// Files of the source tree that are notes for developers, not part of the dump.
const NOT_IN_DUMP: &[&str] = &["README.md"];

/// The session-start handler of the application module.
pub const START: &str = "ПриНачалеРаботыСистемы";
/// The external-event handler of the application module (add-in events of the whole session arrive here).
pub const EXTERNAL_EVENT: &str = "ОбработкаВнешнегоСобытия";
/// The prefix a hooked handler gets: the extension's own name for it, never one the base defines.
const OWN_PREFIX: &str = "ТБ_";

/// Which application-module handlers the base already has, and so which ones the extension hooks with `&После`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Both (БСП with БПО: УТ, ERP, КА, Розница): both hooked.
    BspBpo,
    /// `ПриНачалеРаботыСистемы` only (БСП without БПО, the БСП demo): start hooked, external event own.
    Bsp,
    /// Neither (a bare configuration): both own.
    Bare,
    /// `ОбработкаВнешнегоСобытия` only: external event hooked, start own.
    Bpo,
}

impl Variant {
    pub const ALL: [Variant; 4] = [Variant::BspBpo, Variant::Bsp, Variant::Bare, Variant::Bpo];

    /// The name in the dump's directory and zip (`TelephonyBridge-extension-<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Variant::BspBpo => "bsp-bpo",
            Variant::Bsp => "bsp",
            Variant::Bare => "bare",
            Variant::Bpo => "bpo",
        }
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The variant for a base that declares (`start`, `external_event`).
    pub fn for_handlers(start: bool, external_event: bool) -> Variant {
        match (start, external_event) {
            (true, true) => Variant::BspBpo,
            (true, false) => Variant::Bsp,
            (false, false) => Variant::Bare,
            (false, true) => Variant::Bpo,
        }
    }

    /// The handlers the base has and the extension hooks with `&После`.
    pub fn hooked(self) -> &'static [&'static str] {
        match self {
            Variant::BspBpo => &[START, EXTERNAL_EVENT],
            Variant::Bsp => &[START],
            Variant::Bare => &[],
            Variant::Bpo => &[EXTERNAL_EVENT],
        }
    }

    pub fn dir_name(self) -> String {
        format!("{DUMP_PREFIX}-{}", self.name())
    }

    pub fn zip_name(self) -> String {
        format!("{DUMP_PREFIX}-{}.zip", self.name())
    }
}

/// The code of a BSL line: without a `//` comment outside string literals.
fn code_of(line: &str) -> &str {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '/' if !in_string && line[i + 1..].starts_with('/') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The name of the procedure or function a line declares (`[Асинх] Процедура|Функция Имя(`), any case,
/// either script variant; `None` for any other line.
fn declared_name(line: &str) -> Option<String> {
    let code = code_of(line).trim_start_matches('\u{feff}').trim();
    let lower = code.to_lowercase();
    let mut rest = lower.as_str();
    for word in ["асинх", "async"] {
        if let Some(r) = rest.strip_prefix(word) {
            if r.starts_with(char::is_whitespace) {
                rest = r.trim_start();
            }
        }
    }
    let rest = ["процедура", "функция", "procedure", "function"]
        .iter()
        .find_map(|kw| {
            rest.strip_prefix(kw)
                .filter(|r| r.starts_with(char::is_whitespace))
        })?
        .trim_start();
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let after = rest[name.len()..].trim_start();
    (!name.is_empty() && after.starts_with('(')).then_some(name)
}

/// What a base's application module declares, as far as the variants care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Handlers {
    pub start: bool,
    pub external_event: bool,
    /// A handler under its English name (`OnStart`, `ExternEventProcessing`): a base written in the English script
    /// variant, which the extension's Russian `&После("…")` names do not reach.
    pub english: bool,
}

/// The handlers a base's application module (`Ext/ManagedApplicationModule.bsl` of its dump) declares.
pub fn declared_handlers(module: &str) -> Handlers {
    let mut found = Handlers::default();
    for line in module.lines() {
        match declared_name(line).as_deref() {
            Some(name) if name == START.to_lowercase() => found.start = true,
            Some(name) if name == EXTERNAL_EVENT.to_lowercase() => found.external_event = true,
            Some("onstart" | "externeventprocessing") => found.english = true,
            _ => {}
        }
    }
    found
}

/// The variant a base needs, from the text of its application module.
pub fn variant_for(base_module: &str) -> Result<Variant, String> {
    let found = declared_handlers(base_module);
    if found.english {
        return Err("the base's application module declares OnStart or ExternEventProcessing: a configuration \
                    in the English script variant; the extension's variants hook the Russian names \
                    (ПриНачалеРаботыСистемы, ОбработкаВнешнегоСобытия) and none of them fits it"
            .into());
    }
    Ok(Variant::for_handlers(found.start, found.external_event))
}

/// The application module of `variant`, derived from the source's (the [`Variant::Bare`] form): every handler the
/// variant hooks is declared `&После("<имя>")` under the name `ТБ_<имя>`; everything else is kept byte for byte.
pub fn application_module(source: &str, variant: Variant) -> Result<String, String> {
    let eol = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = source.to_string();
    for handler in variant.hooked() {
        let own = format!("{OWN_PREFIX}{handler}");
        let lines: Vec<&str> = out.split_inclusive('\n').collect();
        if lines
            .iter()
            .any(|l| declared_name(l).as_deref() == Some(own.to_lowercase().as_str()))
        {
            return Err(format!("the application module already declares {own}"));
        }
        let at: Vec<usize> = (0..lines.len())
            .filter(|&i| {
                declared_name(lines[i]).as_deref() == Some(handler.to_lowercase().as_str())
            })
            .collect();
        let [i] = at[..] else {
            return Err(format!(
                "the application module must declare {handler} exactly once, found {}",
                at.len()
            ));
        };
        if i > 0 && code_of(lines[i - 1]).trim_start().starts_with('&') {
            return Err(format!(
                "{handler} already has an annotation or directive: the source must be the bare form"
            ));
        }
        let line = lines[i];
        // The name as written (any case) is replaced once, right after the keyword.
        let lower = line.to_lowercase();
        let pos = lower
            .find(&handler.to_lowercase())
            .expect("declared_name found it");
        let indent = &line[..line.len() - line.trim_start().len()];
        let rewritten = format!(
            "{indent}&После(\"{handler}\"){eol}{}{own}{}",
            &line[indent.len()..pos],
            &line[pos + handler.len()..]
        );
        out = lines[..i]
            .iter()
            .copied()
            .chain(std::iter::once(rewritten.as_str()))
            .chain(lines[i + 1..].iter().copied())
            .collect();
    }
    Ok(out)
}

/// What `write` produced for one variant.
#[derive(Debug)]
pub struct Written {
    pub variant: Variant,
    pub dir: PathBuf,
    pub zip: PathBuf,
    pub files: usize,
}

/// Every file of `source` (relative paths, `/`-separated, sorted), without the developer notes.
pub fn source_files(source: &Path) -> Result<Vec<String>, String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let relative = path
                    .strip_prefix(root)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(source, source, &mut files)?;
    files.retain(|f| !NOT_IN_DUMP.contains(&f.as_str()));
    files.sort();
    Ok(files)
}

/// The source's application module, which must be the bare form (declaring both handlers).
fn source_module(source: &Path) -> Result<String, String> {
    let module_bytes = std::fs::read(source.join(APPLICATION_MODULE))
        .map_err(|e| format!("cannot read {APPLICATION_MODULE}: {e}"))?;
    let module = String::from_utf8(module_bytes)
        .map_err(|e| format!("{APPLICATION_MODULE} is not UTF-8: {e}"))?;
    if variant_for(&module)? != Variant::BspBpo {
        return Err(format!(
            "{APPLICATION_MODULE} of the source must declare both {START} and {EXTERNAL_EVENT} (the bare form)"
        ));
    }
    Ok(module)
}

/// A dump of an earlier release had no variant in its name and hooked nothing: it must not stay next to these.
fn remove_unvaried_dump(dist: &Path) -> Result<(), String> {
    let old_dir = dist.join(DUMP_PREFIX);
    if old_dir.exists() {
        std::fs::remove_dir_all(&old_dir)
            .map_err(|e| format!("cannot remove the old {}: {e}", old_dir.display()))?;
    }
    let old_zip = dist.join(format!("{DUMP_PREFIX}.zip"));
    if old_zip.exists() {
        std::fs::remove_file(&old_zip)
            .map_err(|e| format!("cannot remove the old {}: {e}", old_zip.display()))?;
    }
    Ok(())
}

/// Writes `<dist>/TelephonyBridge-extension-<variant>/` and `<dist>/TelephonyBridge-extension-<variant>.zip` for
/// every variant from the source dump `source` and the add-in package `addin_zip` (copied byte for byte as the
/// template).
pub fn write(source: &Path, addin_zip: &Path, dist: &Path) -> Result<Vec<Written>, String> {
    if !source.join("Configuration.xml").is_file() {
        return Err(format!(
            "{} is not an extension dump (no Configuration.xml)",
            source.display()
        ));
    }
    let mut files = source_files(source)?;
    if files.iter().any(|f| f == TEMPLATE_BIN) {
        return Err(format!(
            "{}/{TEMPLATE_BIN} must not exist in the source tree: the package writes it",
            source.display()
        ));
    }
    let module = source_module(source)?;
    let package = std::fs::read(addin_zip)
        .map_err(|e| format!("cannot read {}: {e}", addin_zip.display()))?;
    if !package.starts_with(b"PK\x03\x04") {
        return Err(format!("{} is not a zip archive", addin_zip.display()));
    }
    files.push(TEMPLATE_BIN.to_string());
    files.sort();

    remove_unvaried_dump(dist)?;

    let mut written = Vec::new();
    for variant in Variant::ALL {
        let own_module = application_module(&module, variant)?;
        let content = |file: &str| -> Result<Vec<u8>, String> {
            if file == TEMPLATE_BIN {
                Ok(package.clone())
            } else if file == APPLICATION_MODULE {
                Ok(own_module.clone().into_bytes())
            } else {
                std::fs::read(source.join(file)).map_err(|e| format!("cannot read {file}: {e}"))
            }
        };
        let dir = dist.join(variant.dir_name());
        if dir.exists() {
            // A stale dump could keep a file that was removed from the source.
            std::fs::remove_dir_all(&dir)
                .map_err(|e| format!("cannot remove the old {}: {e}", dir.display()))?;
        }
        let zip_path = dist.join(variant.zip_name());
        let out = std::fs::File::create(&zip_path)
            .map_err(|e| format!("cannot create {}: {e}", zip_path.display()))?;
        let mut zip = zip::ZipWriter::new(out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for file in &files {
            let bytes = content(file)?;
            let to = dir.join(file);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::write(&to, &bytes)
                .map_err(|e| format!("cannot write {}: {e}", to.display()))?;
            zip.start_file(file.as_str(), options)
                .and_then(|()| zip.write_all(&bytes).map_err(Into::into))
                .map_err(|e| format!("cannot write {file} into {}: {e}", zip_path.display()))?;
        }
        zip.finish()
            .map_err(|e| format!("cannot finish {}: {e}", zip_path.display()))?;
        written.push(Written {
            variant,
            dir,
            zip: zip_path,
            files: files.len(),
        });
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("package/ is inside the workspace")
            .to_path_buf()
    }

    fn source_module() -> String {
        std::fs::read_to_string(
            workspace()
                .join("bsl-examples/extension")
                .join(APPLICATION_MODULE),
        )
        .unwrap()
    }

    /// A real package zip, written by the same `bundle` the package uses, from stand-in binaries.
    fn real_package_zip(dir: &Path) -> PathBuf {
        let lin = dir.join("lib.so");
        std::fs::write(&lin, b"\x7fELF stand-in library").unwrap();
        let target = crate::TARGETS
            .iter()
            .find(|t| t.short_name == "Lin64")
            .expect("Lin64 target");
        let built = [crate::Built { target, path: lin }];
        crate::bundle(&workspace().join("manifest"), dir, "1.0.0", &built).unwrap()
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tb-extension-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Lines of a module that declare a method, with the annotation line before each (if any).
    fn declarations(module: &str) -> Vec<(Option<String>, String)> {
        let lines: Vec<&str> = module.lines().collect();
        (0..lines.len())
            .filter_map(|i| {
                declared_name(lines[i])?;
                let annotation = (i > 0 && lines[i - 1].trim_start().starts_with('&'))
                    .then(|| lines[i - 1].trim().to_string());
                Some((annotation, lines[i].trim().to_string()))
            })
            .collect()
    }

    #[test]
    fn the_variant_follows_the_handlers_the_base_declares() {
        // The БСП demo's application module (БСП 3.1: ssl_3_1 src/cf/Ext/ManagedApplicationModule.bsl) has the start
        // handler and no external-event handler; these are its declaration lines in its own layout.
        let bsp = "Перем ПараметрыПриложения Экспорт;\n\nПроцедура ПередНачаломРаботыСистемы()\nКонецПроцедуры\n\n\
                   Процедура ПриНачалеРаботыСистемы()\n\tСтандартныеПодсистемыКлиент.ПриНачалеРаботыСистемы();\n\
                   КонецПроцедуры\n";
        assert_eq!(variant_for(bsp), Ok(Variant::Bsp));
        let bsp_bpo = format!("{bsp}\nПроцедура ОбработкаВнешнегоСобытия(Источник, Событие, Данные)\nКонецПроцедуры\n");
        assert_eq!(variant_for(&bsp_bpo), Ok(Variant::BspBpo));
        assert_eq!(variant_for(""), Ok(Variant::Bare));
        assert_eq!(
            variant_for(
                "// Процедура ПриНачалеРаботыСистемы()\nПроцедура Другая()\nКонецПроцедуры\n"
            ),
            Ok(Variant::Bare),
            "a commented-out handler is no handler"
        );
        assert_eq!(
            variant_for(
                "\u{feff}асинх  процедура обработкавнешнегособытия (Источник, Событие, Данные)\n"
            ),
            Ok(Variant::Bpo),
            "any case, Асинх, a BOM, a space before the bracket"
        );
        assert_eq!(
            variant_for("Процедура ПриНачалеРаботыСистемыДоп()\n"),
            Ok(Variant::Bare),
            "a longer name is another method"
        );
        assert_eq!(
            variant_for("\tТекст = \"\n\t|Процедура ПриНачалеРаботыСистемы()\";\n"),
            Ok(Variant::Bare),
            "a line of a multi-line string is no declaration"
        );
        let err = variant_for("Procedure OnStart()\nEndProcedure\n").unwrap_err();
        assert!(err.contains("English"), "{err}");
        for v in Variant::ALL {
            assert_eq!(Variant::from_name(v.name()), Some(v));
        }
    }

    #[test]
    fn each_variant_hooks_exactly_the_handlers_the_base_has() {
        let source = source_module();
        assert_eq!(
            variant_for(&source),
            Ok(Variant::BspBpo),
            "the source declares both handlers (the bare form)"
        );
        for variant in Variant::ALL {
            let module = application_module(&source, variant).unwrap();
            let declared = declarations(&module);
            for handler in [START, EXTERNAL_EVENT] {
                let hooked = variant.hooked().contains(&handler);
                let own = format!("Процедура {handler}(");
                let renamed = format!("Процедура ТБ_{handler}(");
                let find = |prefix: &str| {
                    declared
                        .iter()
                        .filter(|(_, l)| l.starts_with(prefix))
                        .collect::<Vec<_>>()
                };
                if hooked {
                    assert!(
                        find(&own).is_empty(),
                        "{}: {handler} not declared under its own name",
                        variant.name()
                    );
                    let [(annotation, _)] = find(&renamed)[..] else {
                        panic!("{}: ТБ_{handler} declared once", variant.name())
                    };
                    assert_eq!(
                        annotation.as_deref(),
                        Some(format!("&После(\"{handler}\")").as_str())
                    );
                } else {
                    assert!(
                        find(&renamed).is_empty(),
                        "{}: no ТБ_{handler}",
                        variant.name()
                    );
                    let [(annotation, _)] = find(&own)[..] else {
                        panic!("{}: {handler} declared once", variant.name())
                    };
                    assert_eq!(
                        annotation,
                        &None,
                        "{}: {handler} is the extension's own",
                        variant.name()
                    );
                }
            }
            // What the base declares after the rewrite is exactly what the variant expects of it: read back, the
            // module hooks nothing it does not declare under its own name.
            let left = declared_handlers(&module);
            assert_eq!(
                Variant::for_handlers(left.start, left.external_event),
                Variant::for_handlers(
                    !variant.hooked().contains(&START),
                    !variant.hooked().contains(&EXTERNAL_EVENT)
                )
            );
            // Nothing else changes: removing the inserted annotations and prefixes gives the source back.
            let mut back = module.clone();
            for handler in variant.hooked() {
                back = back
                    .replace(&format!("&После(\"{handler}\")\n"), "")
                    .replace(&format!("ТБ_{handler}("), &format!("{handler}("));
            }
            assert_eq!(back, source, "{}", variant.name());
        }
        assert_eq!(application_module(&source, Variant::Bare).unwrap(), source);
    }

    #[test]
    fn the_transformation_refuses_a_source_it_cannot_rewrite_safely() {
        let twice = "Процедура ПриНачалеРаботыСистемы()\nКонецПроцедуры\nПроцедура ПриНачалеРаботыСистемы()\n";
        let err = application_module(twice, Variant::Bsp).unwrap_err();
        assert!(err.contains("exactly once"), "{err}");
        let missing = "Процедура ОбработкаВнешнегоСобытия(Источник, Событие, Данные)\n";
        let err = application_module(missing, Variant::Bsp).unwrap_err();
        assert!(err.contains("found 0"), "{err}");
        let annotated = "&После(\"ПриНачалеРаботыСистемы\")\nПроцедура ПриНачалеРаботыСистемы()\n";
        let err = application_module(annotated, Variant::Bsp).unwrap_err();
        assert!(err.contains("bare form"), "{err}");
        let clash = "Процедура ПриНачалеРаботыСистемы()\nПроцедура ТБ_ПриНачалеРаботыСистемы()\n";
        let err = application_module(clash, Variant::Bsp).unwrap_err();
        assert!(err.contains("already declares"), "{err}");
        // CRLF sources keep CRLF.
        let crlf = "Процедура ПриНачалеРаботыСистемы()\r\nКонецПроцедуры\r\n";
        assert_eq!(
            application_module(crlf, Variant::Bsp).unwrap(),
            "&После(\"ПриНачалеРаботыСистемы\")\r\nПроцедура ТБ_ПриНачалеРаботыСистемы()\r\nКонецПроцедуры\r\n"
        );
    }

    #[test]
    fn every_variant_dump_is_the_source_tree_with_its_module_plus_the_package_as_the_template() {
        let dir = scratch("write");
        let package = real_package_zip(&dir);
        let source = workspace().join("bsl-examples/extension");
        let dist = dir.join("dist");
        // A dump of the earlier, unsuffixed name is removed.
        std::fs::create_dir_all(dist.join(DUMP_PREFIX)).unwrap();
        std::fs::write(dist.join(format!("{DUMP_PREFIX}.zip")), b"old").unwrap();
        let written = write(&source, &package, &dist).unwrap();
        assert!(!dist.join(DUMP_PREFIX).exists());
        assert!(!dist.join(format!("{DUMP_PREFIX}.zip")).exists());
        assert_eq!(
            written.iter().map(|w| w.variant).collect::<Vec<_>>(),
            Variant::ALL.to_vec()
        );

        let package_bytes = std::fs::read(&package).unwrap();
        let source_list = source_files(&source).unwrap();
        assert!(source_list.iter().any(|f| f == "Configuration.xml"));
        let module = source_module();
        for w in &written {
            let name = w.variant.name();
            assert_eq!(
                w.dir,
                dist.join(format!("TelephonyBridge-extension-{name}"))
            );
            assert_eq!(
                w.zip,
                dist.join(format!("TelephonyBridge-extension-{name}.zip"))
            );
            assert_eq!(
                std::fs::read(w.dir.join(TEMPLATE_BIN)).unwrap(),
                package_bytes,
                "{name}: Template.bin is the package, byte for byte"
            );
            assert!(
                !w.dir.join("README.md").exists(),
                "developer notes stay out"
            );
            let expected_module = application_module(&module, w.variant).unwrap();
            let expected = |file: &str| {
                if file == APPLICATION_MODULE {
                    expected_module.clone().into_bytes()
                } else {
                    std::fs::read(source.join(file)).unwrap()
                }
            };
            for file in &source_list {
                assert_eq!(
                    std::fs::read(w.dir.join(file)).unwrap(),
                    expected(file),
                    "{name}: {file}"
                );
            }
            assert_eq!(w.files, source_list.len() + 1);

            // The zip holds exactly the dump, with UTF-8 (Cyrillic) names.
            let mut zip = zip::ZipArchive::new(std::fs::File::open(&w.zip).unwrap()).unwrap();
            assert_eq!(zip.len(), w.files);
            let mut template = Vec::new();
            zip.by_name(TEMPLATE_BIN)
                .unwrap()
                .read_to_end(&mut template)
                .unwrap();
            assert_eq!(template, package_bytes);
            for file in &source_list {
                let mut bytes = Vec::new();
                zip.by_name(file).unwrap().read_to_end(&mut bytes).unwrap();
                assert_eq!(bytes, expected(file), "{name}: {file} in the zip");
            }
        }
        // The variants differ in the application module only, and there in what they hook.
        let bare = &written[2];
        assert_eq!(bare.variant, Variant::Bare);
        assert_eq!(
            std::fs::read_to_string(bare.dir.join(APPLICATION_MODULE)).unwrap(),
            module
        );
        let bsp_bpo = std::fs::read_to_string(written[0].dir.join(APPLICATION_MODULE)).unwrap();
        assert_eq!(
            variant_for(&bsp_bpo),
            Ok(Variant::Bare),
            "bsp-bpo declares neither handler under its name"
        );

        // A second run replaces the dump: nothing stale survives.
        std::fs::write(bare.dir.join("stale.xml"), b"x").unwrap();
        let again = write(&source, &package, &dist).unwrap();
        assert!(!again[2].dir.join("stale.xml").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn it_refuses_what_would_not_be_a_working_extension() {
        let dir = scratch("refuse");
        let package = real_package_zip(&dir);
        let not_a_dump = dir.join("empty");
        std::fs::create_dir_all(&not_a_dump).unwrap();
        let err = write(&not_a_dump, &package, &dir.join("dist")).unwrap_err();
        assert!(err.contains("no Configuration.xml"), "{err}");

        let not_a_zip = dir.join("not.zip");
        std::fs::write(&not_a_zip, b"MZ").unwrap();
        let source = workspace().join("bsl-examples/extension");
        let err = write(&source, &not_a_zip, &dir.join("dist")).unwrap_err();
        assert!(err.contains("not a zip"), "{err}");

        // A placeholder Template.bin in a source tree is refused rather than shipped.
        let copy = dir.join("copy");
        std::fs::create_dir_all(copy.join("CommonTemplates/ТБ_TelephonyBridge/Ext")).unwrap();
        std::fs::create_dir_all(copy.join("Ext")).unwrap();
        std::fs::copy(
            source.join("Configuration.xml"),
            copy.join("Configuration.xml"),
        )
        .unwrap();
        std::fs::copy(
            source.join(APPLICATION_MODULE),
            copy.join(APPLICATION_MODULE),
        )
        .unwrap();
        std::fs::write(copy.join(TEMPLATE_BIN), b"placeholder").unwrap();
        let err = write(&copy, &package, &dir.join("dist")).unwrap_err();
        assert!(err.contains("must not exist in the source tree"), "{err}");

        // A source module already hooked (not the bare form) is refused: the variants could not be derived.
        std::fs::remove_file(copy.join(TEMPLATE_BIN)).unwrap();
        std::fs::write(
            copy.join(APPLICATION_MODULE),
            application_module(&source_module(), Variant::Bsp).unwrap(),
        )
        .unwrap();
        let err = write(&copy, &package, &dir.join("dist")).unwrap_err();
        assert!(err.contains("the bare form"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
