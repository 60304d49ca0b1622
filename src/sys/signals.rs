//! The signals that stop a command cleanly, as a future to select on.

/// The signals that stop a command cleanly: SIGINT, SIGTERM, SIGHUP.
/// Installed before any work starts, so none of them can kill the process
/// half-way through by default action.
pub struct Signals {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    pub fn install() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
        }
    }

    /// The number of the first signal received.
    pub async fn recv(&mut self) -> i32 {
        async fn wait(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = wait(&mut self.int) => libc::SIGINT,
            _ = wait(&mut self.term) => libc::SIGTERM,
            _ = wait(&mut self.hup) => libc::SIGHUP,
        }
    }
}
