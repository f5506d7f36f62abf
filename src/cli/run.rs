//! The main job's flow: parse, check, then run the function on the session's engine or on the
//! recording engine, and write the result.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::error::ErrorKind;
use clap::ArgMatches;
use serde_json::Value;

use super::args::{Call, Given};
use super::command::{
    self, kebab, returns_file, BASE, COMPLETIONS, JSON, OUTPUT, PLAN, QUIET, SHELL,
};
use super::json::{self, Engine};
use super::output::{self, FAILURE, USAGE};
use super::progress::{CountingTransport, Reporter};
use super::{completions, plan};
use crate::module::Blumeops;
use crate::release::Created;
use dagger_engine::{EngineClient, HttpTransport, HttpTransportConfig, SessionParams};
use dagger_module_runtime::{Args, CallContext, FunctionError, FunctionResult, Module};

/// The global flags.
#[derive(Debug, Clone, Copy)]
struct Options<'a> {
    plan: bool,
    json: bool,
    quiet: bool,
    /// Where a returned File goes (`--output`).
    output: Option<&'a str>,
}

impl<'a> Options<'a> {
    fn of(matches: &'a ArgMatches) -> Self {
        let flag = |name: &str| matches.get_flag(name);
        Self {
            plan: flag(PLAN),
            json: flag(JSON),
            quiet: flag(QUIET),
            output: matches
                .try_get_one::<String>(OUTPUT)
                .ok()
                .flatten()
                .map(String::as_str),
        }
    }
}

/// The main job: `blumeops <function> [--flag value]...`, as `dagger call` takes them.
pub async fn main() -> ExitCode {
    let started = Instant::now();
    init_tracing();
    let module = Blumeops::new();
    let def = module.definition();
    let mut cmd = match command::command(&def) {
        Ok(cmd) => cmd,
        Err(e) => {
            output::error(&e.to_string());
            return ExitCode::from(FAILURE);
        }
    };
    let matches = match cmd.try_get_matches_from_mut(std::env::args_os()) {
        Ok(matches) => matches,
        Err(e) => return clap_exit(&e),
    };
    let Some((name, sub)) = matches.subcommand() else {
        // subcommand_required: clap has already refused a command line without one.
        output::error("a function is needed (blumeops --help lists them)");
        return ExitCode::from(USAGE);
    };
    if name == COMPLETIONS {
        return match sub.get_one::<clap_complete::Shell>(SHELL) {
            Some(shell) => exit(output::bytes(&completions::script(&mut cmd, *shell))),
            None => ExitCode::from(USAGE),
        };
    }
    let options = Options::of(sub);
    let Some(function) = def.object.functions.iter().find(|f| kebab(&f.name) == name) else {
        output::error(&format!("unknown function {name:?}"));
        return ExitCode::from(USAGE);
    };
    let mut call = match Call::from_matches(function, sub) {
        Ok(call) => call,
        Err(e) => {
            output::error(&e.to_string());
            return ExitCode::from(USAGE);
        }
    };
    if let Err(message) = created_from_environment(&mut call) {
        output::error(&message);
        return ExitCode::from(USAGE);
    }
    if let Some(base) = sub.try_get_one::<String>(BASE).ok().flatten() {
        if let Err(message) = changed_from_git(&mut call, base) {
            output::error(&message);
            return ExitCode::from(USAGE);
        }
    }
    // A bare secret value may be the password itself, and a `cmd:` address's command may carry
    // a token: neither is written anywhere from here on (plan, result, errors, log lines).
    output::redact_everywhere(call.given.iter().filter_map(|(_, given)| match given {
        Given::Secret(address) => output::sensitive_part(address).map(str::to_string),
        _ => None,
    }));
    let session = if options.plan {
        None
    } else {
        match SessionParams::from_env() {
            Ok(session) => session,
            Err(message) => {
                output::error(&format!("the Dagger session's environment: {message}"));
                return ExitCode::from(FAILURE);
            }
        }
    };
    match session {
        Some(session) => {
            // Every argument rule first, with no engine work: the module runs the call on the
            // recording engine, which loads `--src` from this machine and runs nothing.
            if let Err(message) = check_arguments(&call).await {
                output::error(&message);
                return ExitCode::from(USAGE);
            }
            run_in_session(module, &call, options, &session, started).await
        }
        // A CI step that forgot `dagger run` must not go green with a made-up digest: a
        // function that pushes runs on the recording engine only to report its arguments'
        // errors, then is refused.
        None if !options.plan
            && (Blumeops::publishes(&function.name) || returns_file(function)) =>
        {
            let refusal = no_session_message(name);
            run_on_recording_engine(module, &call, options, Some(refusal)).await
        }
        None => run_on_recording_engine(module, &call, options, None).await,
    }
}

/// `SOURCE_DATE_EPOCH` (<https://reproducible-builds.org/specs/source-date-epoch/>) as the
/// image's creation time when `--created` is not given; `--created` wins. An empty variable is
/// unset; one that is not whole seconds is an argument error.
fn created_from_environment(call: &mut Call) -> Result<(), String> {
    let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") else {
        return Ok(());
    };
    let value = value.to_string_lossy();
    if value.is_empty() || call.function.find_arg("created").is_none() {
        return Ok(());
    }
    let created = Created::from_source_date_epoch(&value).map_err(|e| e.to_string())?;
    call.default_from_environment("created", Value::String(created.to_string()));
    Ok(())
}

/// `--base REF`: the `changed` argument from the local clone, the paths
/// `git diff --name-only REF...HEAD` lists in `--src` (the current directory by default), as the
/// CI task computed them; for `container-list`, `main_commits` from `git rev-list REF`. The module gets no `.git` in its source (it is ignored), so the main
/// job, which runs in the clone, fills it.
fn changed_from_git(call: &mut Call, base: &str) -> Result<(), String> {
    if base.starts_with('-') {
        return Err(format!(
            "--base: {base:?} is not a git ref (it starts with '-')"
        ));
    }
    let dir = match call.get("src") {
        Some(Given::Directory(path)) => path.clone(),
        _ => std::path::PathBuf::from(command::DIRECTORY_DEFAULT),
    };
    // The changed paths for the detect step and the version check; the main branch's
    // commits for container-list's provenance.
    let range = format!("{base}...HEAD");
    let (argument, git_args): (&str, Vec<&str>) = if call.function.find_arg("changed").is_some() {
        ("changed", vec!["diff", "--name-only", &range, "--"])
    } else {
        ("main_commits", vec!["rev-list", base, "--"])
    };
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(&git_args)
        .output()
        .map_err(|e| format!("--base: running git failed: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "--base: `git {}` in {} failed: {}",
            git_args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| Value::String(l.to_string()))
        .collect();
    call.default_from_environment(argument, Value::Array(lines));
    Ok(())
}

/// Why a function that pushes refuses to run without a session.
fn no_session_message(function: &str) -> String {
    format!(
        "`blumeops {function}` pushes images or writes a file and needs a Dagger engine session, and there is none \
         (DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN are not set): run it under `dagger run \
         blumeops {function} ...`; to see what it would build and push without an engine, add \
         --plan (its digests are stand-ins, never a registry's)"
    )
}

/// The argument error the module reports for `call`, found on the recording engine: a value
/// that breaks its rule, an unknown container, a version the container does not build. Other
/// outcomes there (a failure only a real engine can have or not) are the real run's to report.
async fn check_arguments(call: &Call) -> Result<(), String> {
    let Ok(engine) = plan::recording_engine(call) else {
        // What cannot be loaded here is reported by the real run, with the engine's words.
        return Ok(());
    };
    let client = engine.client();
    let module = Blumeops::new();
    let Ok(input) = call.input_args(&client).await else {
        return Ok(());
    };
    match call_function(&module, call, &client, input, None, None).await {
        Err((message, code)) if code == USAGE => Err(message),
        _ => Ok(()),
    }
}

fn init_tracing() {
    crate::logging::init_with_writer(tracing_subscriber::filter::LevelFilter::WARN, || {
        output::RedactingStderr
    });
}

/// Help and version on standard output (exit 0), every other clap error on standard error
/// (exit 2).
fn clap_exit(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            exit(output::bytes(e.render().to_string().as_bytes()))
        }
        _ => {
            output::info(&e.render().to_string());
            ExitCode::from(USAGE)
        }
    }
}

fn exit(written: Result<(), ExitCode>) -> ExitCode {
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// What a call returned, for standard output.
enum Outcome {
    Text(String),
    Json(Value),
}

/// Runs `call` on `client`: decode its arguments as the module would, call the function, and
/// turn its result into text or (`--json`) an object.
async fn call_function(
    module: &Blumeops,
    call: &Call,
    client: &EngineClient,
    input: Vec<(String, Value)>,
    json_for: Option<(Engine, &CountingTransport)>,
    output: Option<(&str, Engine)>,
) -> Result<Outcome, (String, u8)> {
    let function = &call.function;
    let args = Args::decode(function, &input).map_err(|e| (e.to_string(), USAGE))?;
    let ctx = CallContext::new(client.clone(), serde_json::json!({}));
    let failed = |e: FunctionError| (e.to_string(), e.exit_code());
    let name = kebab(&function.name);
    if let Some((engine, transport)) = json_for {
        if Blumeops::publishes(&function.name) {
            let published = module
                .call_publishing(&ctx, &function.name, &args)
                .await
                .map_err(failed)?;
            let cost = transport.cost();
            return json::published(&name, &published, client, engine, cost)
                .await
                .map(Outcome::Json)
                .map_err(|e| (e, FAILURE));
        }
        let result = module
            .call(&ctx, &function.name, &args)
            .await
            .map_err(failed)?;
        let text = match output {
            Some((path, engine)) => write_file(client, result, path, engine).await?,
            None => result_text(result).await?,
        };
        let cost = transport.cost();
        return Ok(Outcome::Json(json::plain(&name, &text, engine, cost)));
    }
    let result = module
        .call(&ctx, &function.name, &args)
        .await
        .map_err(failed)?;
    match output {
        Some((path, engine)) => write_file(client, result, path, engine)
            .await
            .map(Outcome::Text),
        None => result_text(result).await.map(Outcome::Text),
    }
}

/// Writes the File a function returned to `path` through the engine (`File.export`, as
/// `dagger call ... export --path` does) and answers the path written. The recording engine
/// writes nothing: the path comes back marked as a stand-in.
async fn write_file(
    client: &EngineClient,
    result: FunctionResult,
    path: &str,
    engine: Engine,
) -> Result<String, (String, u8)> {
    let FunctionResult::Object(id) = result else {
        return Err((
            "the function returned no File to write to --output".into(),
            FAILURE,
        ));
    };
    if engine == Engine::Recording {
        return Ok(format!(
            "{path} (stand-in: planned with --plan, nothing was written)"
        ));
    }
    client
        .dagger()
        .r#ref::<dagger_sdk::File>(id)
        .export(path)
        .await
        .map_err(|e| (format!("writing the file to {path} failed: {e}"), FAILURE))
}

async fn result_text(result: FunctionResult) -> Result<String, (String, u8)> {
    Ok(match result {
        FunctionResult::Value(Value::String(s)) => s,
        FunctionResult::Value(v) => v.to_string(),
        FunctionResult::Object(id) => id.0,
        FunctionResult::Container(c) => {
            c.id()
                .await
                .map_err(|e| (format!("reading the container's ID failed: {e}"), FAILURE))?
                .0
        }
        FunctionResult::Void => String::new(),
    })
}

fn write_outcome(outcome: Outcome) -> ExitCode {
    let text = match outcome {
        Outcome::Text(text) => text,
        // A JSON value always serialises.
        Outcome::Json(value) => serde_json::to_string_pretty(&value).unwrap_or_default(),
    };
    exit(output::result(&text))
}

/// Runs `call` on the recording engine and prints its plan and result; with `refusal`, only
/// checks the call there: its argument errors are reported as usual, and a call that would
/// succeed is refused with that message (exit 2), printing nothing on standard output.
async fn run_on_recording_engine(
    module: Blumeops,
    call: &Call,
    options: Options<'_>,
    refusal: Option<String>,
) -> ExitCode {
    let engine = match plan::recording_engine(call) {
        Ok(engine) => engine,
        Err(message) => {
            output::error(&message);
            return ExitCode::from(FAILURE);
        }
    };
    let transport = Arc::new(CountingTransport::new(
        engine.transport(),
        Reporter::new(false),
    ));
    let client = EngineClient::new(transport.clone());
    let why = if options.plan {
        "--plan"
    } else {
        "no Dagger engine session"
    };
    let publishes = Blumeops::publishes(&call.function.name);
    let input = match call.input_args(&client).await {
        Ok(input) => input,
        Err(e) => {
            output::error(&e.to_string());
            return ExitCode::from(e.exit_code());
        }
    };
    let json_for = options
        .json
        .then_some((Engine::Recording, transport.as_ref()));
    let output = options.output.map(|path| (path, Engine::Recording));
    let result = call_function(&module, call, &client, input, json_for, output).await;
    if let Some(refusal) = refusal {
        let (message, code) = match result {
            Err((message, code)) if code == USAGE => (message, code),
            _ => (refusal, USAGE),
        };
        output::error(&message);
        return ExitCode::from(code);
    }
    match result {
        Ok(outcome) => {
            // The stand-in digest is marked where it is printed, so that nothing downstream
            // (a deploy step reading standard output) can take it for a registry's; `--json`
            // says `"digest_is_stand_in": true` instead.
            let outcome = match outcome {
                Outcome::Text(text) if publishes => Outcome::Text(plan::mark_stand_in(&text)),
                other => other,
            };
            if !options.quiet {
                output::info(&plan::render(call, &engine, why));
                if publishes {
                    output::info(plan::DIGEST_NOTE);
                }
                let requests = transport.requests();
                output::info(&format!(
                    "Engine round trips: {} ({requests} request{}; requests in flight together count once)",
                    transport.round_trips(),
                    if requests == 1 { "" } else { "s" }
                ));
            }
            write_outcome(outcome)
        }
        // An argument error: no plan, the arguments were never valid.
        Err((message, code)) if code == USAGE => {
            output::error(&message);
            ExitCode::from(code)
        }
        Err((message, code)) => {
            if !options.quiet {
                output::info(&plan::render(call, &engine, why));
            }
            output::error(&message);
            ExitCode::from(code)
        }
    }
}

async fn run_in_session(
    module: Blumeops,
    call: &Call,
    options: Options<'_>,
    session: &SessionParams,
    started: Instant,
) -> ExitCode {
    let config = match HttpTransportConfig::from_env() {
        Ok(config) => config,
        Err(message) => {
            output::error(&format!("the Dagger session's environment: {message}"));
            return ExitCode::from(FAILURE);
        }
    };
    let reporter = Reporter::new(!options.quiet);
    reporter.ended("arguments checked", "done", started);
    let transport = Arc::new(CountingTransport::new(
        Arc::new(HttpTransport::new(session, config)),
        reporter,
    ));
    let client = EngineClient::new(transport.clone());
    let objects: Vec<String> = call
        .given
        .iter()
        .filter(|(_, g)| !matches!(g, super::args::Given::Value(_)))
        .map(|(def, _)| dagger_module_runtime::cli_flag(&def.name))
        .collect();
    let input = if objects.is_empty() {
        call.input_args(&client).await
    } else {
        let phase = reporter.start(format!("loading {}", objects.join(", ")));
        let loaded = call.input_args(&client).await;
        phase.end(if loaded.is_ok() { "done" } else { "failed" });
        loaded
    };
    let input = match input {
        Ok(input) => input,
        Err(e) => {
            output::error(&e.to_string());
            return ExitCode::from(e.exit_code());
        }
    };
    let json_for = options
        .json
        .then_some((Engine::Session, transport.as_ref()));
    let phase = reporter.start(kebab(&call.function.name));
    let output = options.output.map(|path| (path, Engine::Session));
    match call_function(&module, call, &client, input, json_for, output).await {
        Ok(outcome) => {
            phase.end("done");
            write_outcome(outcome)
        }
        Err((message, code)) => {
            phase.end("failed");
            output::error(&message);
            ExitCode::from(code)
        }
    }
}
