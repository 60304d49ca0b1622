//! A unix socket that only root can connect to.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;

/// Listen on `path`, readable and writable by its owner only. The umask
/// makes the socket private from its creation: there is no moment when
/// another user could connect.
pub fn listen_private(path: &Path) -> io::Result<UnixListener> {
    // SAFETY: umask has no preconditions; it is restored right after.
    let old = unsafe { libc::umask(0o177) };
    let listener = UnixListener::bind(path);
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    let listener = listener?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}
