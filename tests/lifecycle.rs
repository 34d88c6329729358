//! Creating and destroying objects leaves nothing behind. Its own test binary, so that no
//! other test's threads or allocations blur the counts.

use std::time::Duration;

use addin_host::{Host, Val};

const CLASSES: [&str; 4] = ["ConnectAgent", "Centrifugo", "UIScom", "Binotel"];

#[cfg(target_os = "linux")]
#[test]
fn a_thousand_objects_leave_no_thread_handle_or_memory_behind() {
    let host = Host::load_default();
    let run = |rounds: usize| {
        for i in 0..rounds {
            let object = host.create(CLASSES[i % CLASSES.len()]);
            object.call_proc("RaiseTestEvents", &[Val::Int(3)]).unwrap();
            object.wait_events(3, Duration::from_secs(5));
            drop(object); // Done + DestroyObject
        }
    };
    run(50); // warm up allocators and lazily built tables
    let threads = addin_host::thread_count();
    let fds = addin_host::fd_count();
    let rss = addin_host::rss_kib();
    run(1000);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        addin_host::thread_count() <= threads,
        "threads {} -> {}",
        threads,
        addin_host::thread_count()
    );
    assert!(
        addin_host::fd_count() <= fds,
        "fds {fds} -> {}",
        addin_host::fd_count()
    );
    let grown = addin_host::rss_kib().saturating_sub(rss);
    assert!(
        grown < 8 * 1024,
        "RSS grew by {grown} KiB over 1000 objects"
    );
    assert_eq!(host.leaked(), (0, 0));
    assert_eq!(host.bad_frees(), 0);
}
