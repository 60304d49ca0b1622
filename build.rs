//! Link the unwinder (libgcc_eh.a) into the binary instead of loading
//! libgcc_s.so.1 at run time. Loading that library runs its CPU-feature
//! probe (`__cpu_indicator_init`, a dozen CPUID instructions, each a trap
//! to the hypervisor in a VM) on every start: about 0.1 ms of the 1 ms an
//! invocation costs before doing anything. Rust's std asks for `-lgcc_s`;
//! a `libgcc_s.a` in a directory searched first, holding a linker script
//! that names libgcc_eh.a, answers that request with the static unwinder.
//! Where the C compiler knows no libgcc_eh.a, nothing changes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let static_crt = var("CARGO_CFG_TARGET_FEATURE").split(',').any(|f| f == "crt-static");
    if var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" || static_crt {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let Ok(out) = Command::new(cc).arg("-print-file-name=libgcc_eh.a").output() else { return };
    let found = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    // Not found, the compiler prints the bare name back.
    if !out.status.success() || !found.is_absolute() || !found.exists() {
        return;
    }
    let dir = PathBuf::from(var("OUT_DIR")).join("static-unwinder");
    std::fs::create_dir_all(&dir).expect("create OUT_DIR/static-unwinder");
    std::fs::write(dir.join("libgcc_s.a"), format!("INPUT({})\n", found.display()))
        .expect("write the libgcc_s.a linker script");
    println!("cargo:rustc-link-search=native={}", Path::new(&dir).display());
}
