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
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeConfig,
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
        #[arg(long)]
        customers: usize,
        #[arg(long, default_value_t = 2)]
        years: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
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
    /// Generate a company history (customers, garments, pickup lines), import it into an empty database, import
    /// it again, and print lines a second, the rerun's time and peak memory.
    Import {
        #[arg(long, default_value_t = 50_000)]
        customers: usize,
        #[arg(long, default_value_t = 600_000)]
        garments: usize,
        /// Pickup lines (about four to a pickup).
        #[arg(long, default_value_t = 2_000_000)]
        lines: usize,
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
        username: String,
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
                db: cfg,
            }) => {
                let pool = db::connect_and_migrate(&cfg).await?;
                let opts = crate::seed::SeedOptions {
                    progress: true,
                    ..crate::seed::SeedOptions::new(customers, years, seed)
                };
                println!("{}", crate::seed::seed(&pool, opts).await?);
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
                    },
            }) => {
                let options = DecodeOptions {
                    budget: std::time::Duration::from_millis(budget_ms),
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
    };
    crate::pdf::configure(config.pdf_font.clone());
    let state = AppState {
        pool,
        decoder: DecodePool::new(config.decode_workers(), config.decode_queue, options),
        settings: Arc::new(settings),
    };
    tracing::info!(%addr, "doorstep listening on http://{addr}");
    app::serve(listener, state, app::shutdown_signal()).await?;
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
    println!("Try it:");
    println!(
        "  TOKEN=$(curl -s http://{addr}/api/v1/auth/login -H 'content-type: application/json' \\"
    );
    println!("          -d '{{\"username\":\"demo-pickup\",\"password\":\"{pickup}\"}}' | sed 's/.*\"token\":\"\\([0-9a-f]*\\)\".*/\\1/')");
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
