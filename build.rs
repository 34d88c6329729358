//! Link flags of the add-in library.
//!
//! Linux: `-z nodelete`. The library owns threads (workers, event delivery) that may outlive every object when
//! the platform ends a session without Done; dlclose would then unmap code those threads are running. With
//! DF_1_NODELETE the dynamic loader keeps the library mapped until the process ends (docs/architecture.md,
//! «Выход процесса и выгрузка»). Windows pins the DLL at run time instead (`src/lib.rs`, `pin_library`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" || os == "freebsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
