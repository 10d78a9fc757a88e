//! `ratesim serve`: the scenario's providers as HTTP endpoints until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use super::AppError;
use crate::cli::ServeArgs;
use crate::live::server::{
    router, CappedListener, Options, Server, MAX_CONNECTIONS, MAX_IN_FLIGHT,
};
use crate::scenario;

/// How long in-progress responses may take to finish after a shutdown signal before
/// the server stops anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Loads the scenario, binds the address and serves until a signal.
pub fn serve(args: &ServeArgs, stdout: &mut dyn Write) -> Result<(), AppError> {
    let s = scenario::load(&args.scenario)?;
    let scale = args.time_scale;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(AppError::BadInput(format!(
            "--time-scale must be a finite number above 0 (got {scale})"
        )));
    }
    let addr: SocketAddr = args.listen.parse().map_err(|e| {
        AppError::BadInput(format!(
            "--listen {}: not an address and port such as 127.0.0.1:8080 ({e})",
            args.listen
        ))
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the tokio runtime: {e}"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let bound = listener
            .local_addr()
            .map_err(|e| anyhow::anyhow!("cannot read the bound address: {e}"))?;
        let seed = args.seed.unwrap_or(s.seed);
        let server = Server::new(
            &s,
            Options {
                scale,
                seed,
                max_in_flight: MAX_IN_FLIGHT,
            },
        );
        let mut lines = vec![
            format!("ratesim serve: listening on http://{bound}"),
            format!(
                "scenario `{}`, seed {seed}, time scale {scale} (1 s of real time = {scale} s simulated)",
                s.name
            ),
        ];
        for spec in server.specs() {
            lines.push(format!(
                "  POST http://{bound}/{0}/v1/messages   POST http://{bound}/{0}/v1/chat/completions",
                spec.name
            ));
        }
        lines.push(format!("  GET  http://{bound}/metrics   GET  http://{bound}/healthz"));
        for l in &lines {
            writeln!(stdout, "{l}").map_err(anyhow::Error::from)?;
        }
        stdout.flush().map_err(anyhow::Error::from)?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(server);
        let listener = CappedListener::new(listener, MAX_CONNECTIONS);
        let graceful = axum::serve(listener, app).with_graceful_shutdown(async move {
            shutdown_signal().await;
            eprintln!(
                "ratesim serve: shutting down (waiting up to {} s for responses in progress)",
                SHUTDOWN_GRACE.as_secs()
            );
            let _ = stop_tx.send(());
        });
        let forced = async move {
            if stop_rx.await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            r = graceful => r.map_err(|e| anyhow::anyhow!("the server failed: {e}"))?,
            () = forced => eprintln!("ratesim serve: responses still in progress; stopped"),
        }
        Ok::<(), AppError>(())
    })?;
    // Streams still running when the grace ran out are dropped with the runtime.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

/// Resolves at the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
