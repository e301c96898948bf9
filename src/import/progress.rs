//! How an import shows its progress and how it is asked to stop.

use std::fmt;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::i18n::{in_words, Lang};

/// Where progress goes: nowhere, a bar on a terminal, or a line every few seconds (logs, pipes, tests).
#[derive(Clone)]
pub struct Progress {
    out: ProgressOut,
    lang: Lang,
    every: Duration,
    last: Arc<Mutex<Option<Instant>>>,
    started: Instant,
}

#[derive(Clone)]
enum ProgressOut {
    Off,
    Bar(indicatif::ProgressBar),
    Lines(Arc<dyn Fn(&str) + Send + Sync>),
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let out = match self.out {
            ProgressOut::Off => "off",
            ProgressOut::Bar(_) => "bar",
            ProgressOut::Lines(_) => "lines",
        };
        f.debug_struct("Progress")
            .field("out", &out)
            .field("every", &self.every)
            .finish()
    }
}

impl Progress {
    /// The same progress, its messages in `lang` where the catalogue words them.
    pub fn in_lang(mut self, lang: Lang) -> Progress {
        self.lang = lang;
        self
    }

    /// No progress output.
    pub fn off() -> Progress {
        Progress {
            out: ProgressOut::Off,
            every: Duration::ZERO,
            last: Arc::default(),
            started: Instant::now(),
            lang: Lang::En,
        }
    }

    /// A line to `sink` at most every `every` (and at every phase).
    pub fn lines(every: Duration, sink: impl Fn(&str) + Send + Sync + 'static) -> Progress {
        Progress {
            out: ProgressOut::Lines(Arc::new(sink)),
            every,
            last: Arc::default(),
            started: Instant::now(),
            lang: Lang::En,
        }
    }

    /// On stderr: a spinner line on a terminal, otherwise a line every 5 seconds.
    pub fn stderr() -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress {
                out: ProgressOut::Bar(bar),
                every: Duration::from_millis(200),
                last: Arc::default(),
                started: Instant::now(),
                lang: Lang::En,
            }
        } else {
            let started = Instant::now();
            Progress::lines(Duration::from_secs(5), move |l| {
                eprintln!("import [{:.1} s]: {l}", started.elapsed().as_secs_f64())
            })
        }
    }

    /// A phase change or a notice: always shown.
    pub fn say(&self, msg: &str) {
        let msg = in_words(self.lang, msg);
        let msg = msg.as_str();
        match &self.out {
            ProgressOut::Off => {}
            ProgressOut::Bar(bar) => bar.println(format!(
                "import [{:.1} s]: {msg}",
                self.started.elapsed().as_secs_f64()
            )),
            ProgressOut::Lines(sink) => sink(msg),
        }
        if let Ok(mut last) = self.last.lock() {
            *last = Some(Instant::now());
        }
    }

    /// Ongoing work: shown at most every few seconds; `msg` is only built when shown.
    pub fn tick(&self, msg: impl FnOnce() -> String) {
        if matches!(self.out, ProgressOut::Off) {
            return;
        }
        let due = match self.last.lock() {
            Ok(mut last) => {
                let due = last.is_none_or(|t| t.elapsed() >= self.every);
                if due {
                    *last = Some(Instant::now());
                }
                due
            }
            Err(_) => false,
        };
        if due {
            match &self.out {
                ProgressOut::Off => {}
                ProgressOut::Bar(bar) => bar.set_message(in_words(self.lang, &msg())),
                ProgressOut::Lines(sink) => sink(&in_words(self.lang, &msg())),
            }
        }
    }

    pub(super) fn finish(&self) {
        if let ProgressOut::Bar(bar) = &self.out {
            bar.finish_and_clear();
        }
    }
}

/// Asks a running import to stop: it ends after the chunk being written, saying what was committed.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Requests the stop.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was requested.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
