//! The command line: serve (default), demo, migrate, seed, import, staff accounts, benchmarks and forecast backtests.

use std::io::Read;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app;
use crate::config::{DbConfig, ServeConfig};
use crate::decode::pool::DecodePool;
use crate::decode::DecodeOptions;
use crate::domain::Role;
use crate::state::{AppState, Settings};
use crate::{auth, db, demo, staff};

#[derive(Parser)]
#[command(
    name = "doorstep",
    version,
    about = "Field-service backend for door-to-door laundry pickup",
    args_conflicts_with_subcommands = true
)]
/// The command line of the `doorstep` binary.
pub struct Cli {
    /// Log lines as text (colours only on a terminal) or as one JSON object a line.
    #[arg(long, global = true, env = "DOORSTEP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeConfig,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (the default).
    Serve {
        #[command(flatten)]
        config: ServeConfig,
        /// Load the demo data set and print the demo logins first.
        #[arg(long)]
        demo: bool,
    },
    /// Run the service with the demo data set loaded (same as `serve --demo`).
    Demo {
        #[command(flatten)]
        config: ServeConfig,
    },
    /// Create the database if missing and apply migrations, then exit.
    Migrate {
        #[command(flatten)]
        db: DbConfig,
    },
    /// Fill the database with a deterministic, realistic laundry company for demos, tests and benchmarks.
    Seed {
        /// Households to generate (about nine in ten get a door label).
        #[arg(long)]
        customers: usize,
        /// Years of pickup history before `--today`.
        #[arg(long, default_value_t = 2)]
        years: u32,
        /// Random seed: the same seed, size and day give the same company.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Last day of the history (exclusive), company time; default today, and never after tomorrow.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        /// Write the generator's ground truth (churn, discarded garments, habits, the visits each household
        /// would make unprompted) here, one JSON line a household, for `bench quality`.
        #[arg(long)]
        truth: Option<std::path::PathBuf>,
        /// Keep every index during the load (a large seed drops the ones it would update all over and builds
        /// them at its end; keep them when a server is using the database).
        #[arg(long)]
        keep_indexes: bool,
        #[command(flatten)]
        db: DbConfig,
    },
    /// Load a company's history from CSV files (customers, garments, pickup lines); reruns record nothing twice.
    Import(crate::import::ImportArgs),
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Benchmarks measured on this machine.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Forecasting tools.
    Forecast {
        #[command(subcommand)]
        command: ForecastCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Decode every photo of a folder laid out like ../shared/barcodes (`<format>/<image>` + `<image>.txt`)
    /// through the server's pipeline, file bytes in, and print rates, times and peak memory.
    Decode {
        dir: std::path::PathBuf,
        /// Transform every photo in memory first: rot30, hires, dark or blur.
        #[arg(long)]
        stress: Option<crate::bench::decode::Stress>,
        /// Wall-time budget per photo, in milliseconds.
        #[arg(long, default_value_t = 1500)]
        budget_ms: u64,
        /// Decode each photo as a live viewfinder's frame (the cheap passes only).
        #[arg(long)]
        viewfinder: bool,
    },
    /// Score the reminder list against a seed's ground truth (precision, value and incremental value of the
    /// first entries), beside a spend-ranked list and lists ranked by the truth itself.
    Quality {
        /// The file `doorstep seed --truth` wrote for this database.
        #[arg(long)]
        truth: std::path::PathBuf,
        /// Entries scored from the top of each list.
        #[arg(long, default_value_t = 100)]
        top: usize,
        /// The window scored (e.g. `2025-early_winter`) when two are open on the truth's day.
        #[arg(long)]
        window: Option<String>,
        /// Also write every list entry, its estimates and its truth, as CSV (for studying the estimates).
        #[arg(long)]
        entries: Option<std::path::PathBuf>,
        #[command(flatten)]
        db: DbConfig,
    },
    /// Seed fresh simulated companies, each into a database of its own next to --database-url's (dropped
    /// after), score each one's reminder list against its truth on a day of a put-away window drawn from its
    /// seed, and print the table, the means and how many lists meet the goals.
    Sweep {
        #[command(flatten)]
        sweep: crate::bench::sweep::SweepBench,
        #[command(flatten)]
        db: DbConfig,
    },
    /// Time every wardrobe list (first page and full export) on a seeded database.
    Lists {
        /// List day (default: today in Shanghai time).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
        /// Timed runs per list, after one warm-up.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Also print the query plans of the two big scans.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        db: DbConfig,
    },
    /// Post retried pickups to a running service while its PostgreSQL cluster is stopped for a while and started
    /// again, while one more client scans a door label; print requests, acknowledged, found in the database,
    /// duplicates, half-written, the answers while down, the recovery time and the scans' answers. Needs the
    /// service's database (read as the service migrated it) with at least one garment (demo or seed) and
    /// pg_ctlcluster.
    Fault {
        /// The running service (host:port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Concurrent clients, each retrying its Idempotency-Key until 201.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// PostgreSQL major version of the cluster.
        #[arg(long, default_value = "15")]
        pg_version: String,
        /// The cluster to stop and start (see pg_lsclusters).
        #[arg(long, default_value = "main")]
        cluster: String,
        /// Seconds of load before the stop.
        #[arg(long, default_value_t = 5)]
        before_secs: u64,
        /// Seconds the database stays down.
        #[arg(long, default_value_t = 10)]
        down_secs: u64,
        /// Seconds of load after the start.
        #[arg(long, default_value_t = 10)]
        after_secs: u64,
        /// The server's process id, to print its peak memory.
        #[arg(long)]
        server_pid: Option<u32>,
        #[command(flatten)]
        db: DbConfig,
    },
    /// Load a running service's two hot paths (USB-scanner scans over every door label; pickups of new garments,
    /// a fresh key each) and run pgbench on the same server in the same run: prints both, and the ratio. The
    /// database is the service's, read as the service migrated it.
    Load {
        /// The running service (host:port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Seconds each load and each pgbench run lasts.
        #[arg(long, default_value_t = 20)]
        secs: u64,
        /// Keep-alive connections scanning (and pgbench -S clients).
        #[arg(long, default_value_t = 32)]
        scan_connections: usize,
        /// Keep-alive connections posting pickups (and pgbench TPC-B clients).
        #[arg(long, default_value_t = 8)]
        pickup_connections: usize,
        /// New garments in each pickup.
        #[arg(long, default_value_t = 10)]
        garments: usize,
        /// The database pgbench runs in, made and initialised when missing (empty: no reference run).
        #[arg(
            long,
            default_value = "postgres://postgres@127.0.0.1:5432/doorstep_pgbench"
        )]
        pgbench_url: String,
        /// pgbench's scale factor.
        #[arg(long, default_value_t = 10)]
        pgbench_scale: u32,
        /// The server's process id, to print its peak memory and CPU per request and to wait for its background
        /// work.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Longest wait, in seconds, for the server and PostgreSQL to fall quiet before the first load (a server
        /// just started fits its estimates and fills its cards first); 0 starts at once.
        #[arg(long, default_value_t = 900)]
        settle_secs: u64,
        /// The scans' and pickups' Accept-Encoding header, as the staff app's browser sends it; empty sends none.
        #[arg(long, default_value = crate::bench::load::BROWSER_ACCEPT_ENCODING)]
        accept_encoding: String,
        #[command(flatten)]
        db: DbConfig,
    },
    /// Generate a company history (customers, garments, pickup lines), import it into an empty database, import
    /// it again, and print lines a second, the rerun's time and peak memory.
    Import {
        /// Customers in the generated files.
        #[arg(long, default_value_t = 50_000)]
        customers: usize,
        /// Garments in the generated files.
        #[arg(long, default_value_t = 600_000)]
        garments: usize,
        /// Pickup lines (about four to a pickup).
        #[arg(long, default_value_t = 2_000_000)]
        lines: usize,
        /// Random seed of the generated files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Keep the generated files in this folder (default: a temporary folder, removed afterwards).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Rows per committed chunk.
        #[arg(long, default_value_t = 100_000)]
        batch_size: usize,
        #[command(flatten)]
        db: DbConfig,
    },
}

#[derive(Subcommand)]
enum ForecastCommand {
    /// Backtest every candidate model on a weekly series (CSV `week_start,value`) and show Doorstep's pick.
    Backtest { file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account. Without --password-stdin a random password is generated and printed once.
    Add {
        /// The name they sign in with.
        username: String,
        /// What they may do: pickup, dispatcher, manager or admin.
        #[arg(long)]
        role: Role,
        /// Name shown to colleagues (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbConfig,
    },
    /// List staff accounts.
    List {
        #[command(flatten)]
        db: DbConfig,
    },
}

impl Cli {
    /// The chosen log format.
    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }

    /// Runs the chosen command.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            None => serve(self.serve, false).await,
            Some(Command::Serve { config, demo }) => serve(config, demo).await,
            Some(Command::Demo { config }) => serve(config, true).await,
            Some(Command::Migrate { db: cfg }) => {
                db::connect_and_migrate(&cfg).await?;
                println!("database is migrated");
                Ok(())
            }
            Some(Command::Seed {
                customers,
                years,
                seed,
                today,
                truth,
                keep_indexes,
                db: cfg,
            }) => {
                let pool = db::connect_and_migrate(&cfg).await?;
                let defaults = crate::seed::SeedOptions::new(customers, years, seed);
                let opts = crate::seed::SeedOptions {
                    progress: true,
                    today: today.unwrap_or(defaults.today),
                    truth,
                    defer_indexes_from: if keep_indexes {
                        usize::MAX
                    } else {
                        defaults.defer_indexes_from
                    },
                    ..defaults
                };
                println!("{}", crate::seed::seed(&pool, opts).await?);
                Ok(())
            }
            Some(Command::Bench {
                command:
                    BenchCommand::Quality {
                        truth,
                        top,
                        window,
                        entries,
                        db: cfg,
                    },
            }) => {
                let pool = db::connect_and_migrate(&cfg).await?;
                let b = crate::bench::quality::QualityBench {
                    truth,
                    top,
                    window,
                    entries,
                };
                print!("{}", crate::bench::quality::run(&pool, &b).await?);
                Ok(())
            }
            Some(Command::Bench {
                command: BenchCommand::Sweep { sweep, db: cfg },
            }) => {
                print!("{}", crate::bench::sweep::run(&cfg, &sweep).await?);
                Ok(())
            }
            Some(Command::Bench {
                command:
                    BenchCommand::Lists {
                        on,
                        runs,
                        explain,
                        db: cfg,
                    },
            }) => {
                let pool = db::connect_and_migrate(&cfg).await?;
                let b = crate::bench::lists::ListBench { on, runs, explain };
                print!("{}", crate::bench::lists::run(&pool, &b).await?);
                Ok(())
            }
            Some(Command::Bench {
                command:
                    BenchCommand::Fault {
                        addr,
                        clients,
                        pg_version,
                        cluster,
                        before_secs,
                        down_secs,
                        after_secs,
                        server_pid,
                        db: cfg,
                    },
            }) => {
                let pool = db::connect(&cfg).await?;
                let bench = crate::bench::fault::FaultBench {
                    addr,
                    clients,
                    pg_version,
                    cluster,
                    before: std::time::Duration::from_secs(before_secs),
                    down: std::time::Duration::from_secs(down_secs),
                    after: std::time::Duration::from_secs(after_secs),
                    server_pid,
                };
                print!("{}", crate::bench::fault::run(&pool, &bench).await?);
                Ok(())
            }
            Some(Command::Bench {
                command:
                    BenchCommand::Load {
                        addr,
                        secs,
                        scan_connections,
                        pickup_connections,
                        garments,
                        pgbench_url,
                        pgbench_scale,
                        server_pid,
                        settle_secs,
                        accept_encoding,
                        db: cfg,
                    },
            }) => {
                let pool = db::connect(&cfg).await?;
                let bench = crate::bench::load::LoadBench {
                    addr,
                    duration: std::time::Duration::from_secs(secs),
                    scan_connections,
                    pickup_connections,
                    garments_per_pickup: garments,
                    pgbench_url: (!pgbench_url.is_empty()).then_some(pgbench_url),
                    pgbench_scale,
                    server_pid,
                    settle: std::time::Duration::from_secs(settle_secs),
                    accept_encoding,
                };
                print!("{}", crate::bench::load::run(&pool, &bench).await?);
                Ok(())
            }
            Some(Command::Import(args)) => crate::import::run(args).await,
            Some(Command::Bench {
                command:
                    BenchCommand::Import {
                        customers,
                        garments,
                        lines,
                        seed,
                        dir,
                        batch_size,
                        db: cfg,
                    },
            }) => {
                let pool = db::connect_and_migrate(&cfg).await?;
                let size = crate::import::bench::Size {
                    customers,
                    garments,
                    lines,
                    seed,
                };
                print!(
                    "{}",
                    crate::import::bench::run(&pool, size, dir, batch_size.max(1)).await?
                );
                Ok(())
            }
            Some(Command::Staff { command }) => staff_command(command).await,
            Some(Command::Bench {
                command:
                    BenchCommand::Decode {
                        dir,
                        stress,
                        budget_ms,
                        viewfinder,
                    },
            }) => {
                let options = DecodeOptions {
                    budget: std::time::Duration::from_millis(budget_ms),
                    frame: viewfinder,
                    ..DecodeOptions::default()
                };
                let report = tokio::task::spawn_blocking(move || {
                    crate::bench::decode::run(&dir, stress, &options)
                })
                .await??;
                print!("{report}");
                Ok(())
            }
            Some(Command::Forecast {
                command: ForecastCommand::Backtest { file },
            }) => {
                let report = tokio::task::spawn_blocking(move || {
                    crate::forecasts::backtest::run_file(&file)
                })
                .await??;
                print!("{report}");
                Ok(())
            }
        }
    }
}

async fn serve(config: ServeConfig, with_demo: bool) -> anyhow::Result<()> {
    let pool = db::connect_and_migrate(&config.db).await?;
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let addr = listener.local_addr()?;
    if with_demo {
        let logins = demo::load(&pool).await?;
        print_demo(&logins, &addr.to_string());
    }
    let options = DecodeOptions {
        budget: config.decode_budget(),
        max_bytes: config.max_photo_bytes,
        ..DecodeOptions::default()
    };
    let settings = Settings {
        session_ttl: chrono::Duration::hours(config.session_hours.clamp(1, 24 * 30)),
        max_photo_bytes: config.max_photo_bytes,
        request_timeout: std::time::Duration::from_secs(config.request_timeout_secs.max(1)),
        clock: crate::domain::clock::CompanyClock::new(config.local_offset()?),
        contact_cap_days: config.contact_cap_days.clamp(0, 365),
        company_name: config.company_name.trim().chars().take(200).collect(),
        secure_cookies: config.secure_cookies,
        trust_forwarded_for: config.trust_forwarded_for,
        metrics_token: config.metrics_token.clone().filter(|t| t.len() >= 16),
    };
    let upkeep = crate::observe::spawn_upkeep();
    crate::pdf::configure(config.pdf_font.clone());
    let state = AppState {
        reads: crate::access::reads::ReadLog::spawn(pool.clone()),
        cards: crate::profile::kept::CardKeeper::spawn(pool.clone()),
        direct: crate::db::direct::DirectPool::for_pool(&pool),
        pool,
        decoder: DecodePool::new(config.decode_workers(), config.decode_queue, options),
        settings: Arc::new(settings),
        hashers: Arc::new(tokio::sync::Semaphore::new(
            config.max_concurrent_hashes.max(1),
        )),
        forecasts: Arc::default(),
        sessions: Arc::default(),
        outlook: Arc::default(),
    };
    let purge = crate::housekeeping::spawn_purge(
        state.pool.clone(),
        config.idempotency_retention_days.clamp(1, 3650),
    );
    let refit = crate::forecasts::api::spawn_refit(state.clone());
    let sessions = crate::auth::cache::spawn_listener(state.pool.clone(), state.sessions.clone());
    let warm = crate::lists::outlook::spawn_warm(state.clone());
    let cards = crate::profile::kept::spawn_filler(state.pool.clone());
    tracing::info!(%addr, "doorstep listening on http://{addr}");
    let reads = state.reads.clone();
    app::serve(listener, state, app::shutdown_signal()).await?;
    reads.flush().await;
    purge.abort();
    refit.abort();
    sessions.abort();
    warm.abort();
    cards.abort();
    if let Some(upkeep) = upkeep {
        upkeep.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

fn print_demo(logins: &[demo::DemoLogin], addr: &str) {
    println!("Demo data loaded. Demo logins (passwords are new on every start):");
    for l in logins {
        println!(
            "  {:<16} {:<11} password: {}",
            l.username,
            format!("{:?}", l.role).to_lowercase(),
            l.password
        );
    }
    let pickup = logins
        .iter()
        .find(|l| l.role == Role::Pickup)
        .map_or("", |l| l.password.as_str());
    println!();
    println!("The staff app: open http://{addr}/ in a browser and sign in with one of these.");
    println!();
    println!("Or the API with curl:");
    println!(
        "  TOKEN=$(curl -s http://{addr}/api/v1/auth/login -H 'content-type: application/json' \\"
    );
    println!(
        "          -d '{{\"username\":\"demo-pickup\",\"password\":\"{pickup}\"}}' | jq -r .token)"
    );
    println!("  curl -s http://{addr}/api/v1/scans -H \"authorization: Bearer $TOKEN\" -F photo=@fixtures/demo-label-D00DEM0000AN.jpg");
    println!();
}

async fn staff_command(command: StaffCommand) -> anyhow::Result<()> {
    match command {
        StaffCommand::Add {
            username,
            role,
            name,
            password_stdin,
            db: cfg,
        } => {
            let username = crate::domain::username::Username::parse_for_person(&username)?;
            let (password, generated) = if password_stdin {
                let mut p = String::new();
                std::io::stdin()
                    .read_to_string(&mut p)
                    .context("reading the password from stdin")?;
                (p.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (auth::generate_password(), true)
            };
            auth::check_password(&password).map_err(anyhow::Error::msg)?;
            let pool = db::connect_and_migrate(&cfg).await?;
            let hash = tokio::task::spawn_blocking(move || {
                auth::hash_password(&password).map(|h| (h, password))
            })
            .await??;
            let display = name.unwrap_or_else(|| username.to_string());
            let account = staff::db::insert_staff(&pool, &username, &display, role, &hash.0)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(d) if d.constraint() == Some("staff_username_key") => {
                        anyhow::anyhow!("the username '{username}' is taken")
                    }
                    _ => e.into(),
                })?;
            println!(
                "created {} ({:?}) id {}",
                account.username, account.role, account.staff_id
            );
            if generated {
                println!("password: {}", hash.1);
            }
            Ok(())
        }
        StaffCommand::List { db: cfg } => {
            let pool = db::connect_and_migrate(&cfg).await?;
            for s in staff::db::list_staff(&pool).await? {
                println!(
                    "{:<20} {:<11} {:<8} {}",
                    s.username,
                    format!("{:?}", s.role).to_lowercase(),
                    if s.active { "active" } else { "inactive" },
                    s.display_name
                );
            }
            Ok(())
        }
    }
}
