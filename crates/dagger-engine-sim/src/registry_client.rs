//! Registry clients run inside the engine, answered by the registry model: `skopeo list-tags`
//! (containers/skopeo `cmd/skopeo/list_tags.go`), run directly or through `sh -c`, with the
//! credentials given as flags or in an auth file written by `skopeo login --password-stdin`
//! from a mounted secret (`login ... < /run/secrets/x > /dev/null && exec skopeo list-tags
//! --authfile ...`: an AND list of simple commands with those two redirections is modelled).
//!
//! The mock runs no command, but a registry client's answer is the registry's: the model knows
//! each repository's tags and accounts (and a model [`backed_by`](super::RegistryModel::backed_by)
//! a real registry asks it). A test's own declaration ([`super::MockEngine::on_exec`]) still wins.
//!
//! Wording, as skopeo 1.16 prints it: success is the JSON of `tagListOutput`
//! (`{"Repository": ..., "Tags": [...]}`, indented); a failure is logrus' fatal line on stderr
//! with exit code 1, `level=fatal msg="Error listing repository tags: fetching tags list: <cause>"`,
//! the cause as containers/image words it (`docker/errors.go`, `registryHTTPResponseToError`:
//! the registry's error code and message, `unauthorized: authentication required`, `name
//! unknown: repository name not known to registry`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::image_address::parse_address;
use super::registry_backend::{BackendCredentials, BackendError, RegistryBackend};
use super::registry_model::RegistryState;
use super::schema::container::{ContainerState, ExecOutput};
use super::schema::go_quote;
use super::schema::{Ctx, State};

/// The answer of a registry client the model understands, `None` for any other command.
pub(crate) fn answer(ctx: &Ctx, container: &ContainerState, argv: &[String]) -> Option<ExecOutput> {
    let mut auth_files = AuthFiles::new();
    match argv {
        [shell, flag, script, rest @ ..] if is_shell(shell) && flag == "-c" => {
            let env = environment(ctx, container);
            let mut last = None;
            // `a && b`: each simple command in turn, until one fails (POSIX 2.9.3, AND lists).
            for segment in script.split("&&") {
                let (text, stdin_word, quiet) = redirections(segment)?;
                let command = shell_command(&text, rest, &env)?;
                let stdin = match stdin_word {
                    Some(word) => {
                        let path = shell_command(&word, rest, &env)?.pop()?;
                        match file_in_container(ctx, container, &path) {
                            Ok(contents) => Some(contents),
                            Err(out) => return Some(out),
                        }
                    }
                    None => None,
                };
                let mut out = run(ctx, &command, stdin, &mut auth_files)?;
                if quiet {
                    out.stdout.clear();
                }
                let failed = out.exit_code != 0;
                last = Some(out);
                if failed {
                    break;
                }
            }
            last
        }
        _ => run(ctx, argv, None, &mut auth_files),
    }
}

/// The auth files `skopeo login` wrote during one command: user and password by path
/// (containers-auth.json holds them as `auths.<host>.auth`, base64 of `user:password`).
type AuthFiles = BTreeMap<String, (String, String)>;

/// One registry-client command, with what its standard input reads.
fn run(
    ctx: &Ctx,
    command: &[String],
    stdin: Option<String>,
    auth_files: &mut AuthFiles,
) -> Option<ExecOutput> {
    match command {
        [program, sub, args @ ..] if base_name(program) == "skopeo" && sub == "list-tags" => {
            Some(list_tags(ctx, args, auth_files))
        }
        [program, sub, args @ ..] if base_name(program) == "skopeo" && sub == "login" => {
            Some(login(ctx, args, stdin, auth_files))
        }
        _ => None,
    }
}

/// A simple command's text without its redirections, the word its standard input reads
/// from (`< word`), and whether its standard output goes to `/dev/null`. `None` for any other
/// redirection: the model does not guess.
fn redirections(segment: &str) -> Option<(String, Option<String>, bool)> {
    let mut text = String::new();
    let mut stdin = None;
    let mut quiet = false;
    let mut in_double = false;
    let mut in_single = false;
    let mut chars = segment.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if !in_single => {
                in_double = !in_double;
                text.push(c);
            }
            '\'' if !in_double => {
                in_single = !in_single;
                text.push(c);
            }
            '<' | '>' if !in_double && !in_single => {
                let mut word = String::new();
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
                let mut quoted = false;
                while let Some(&n) = chars.peek() {
                    if n == '"' {
                        quoted = !quoted;
                    } else if matches!(n, ' ' | '<' | '>') && !quoted {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                if c == '<' {
                    stdin = Some(word);
                } else if word == "/dev/null" {
                    quiet = true;
                } else {
                    return None;
                }
            }
            other => text.push(other),
        }
    }
    Some((text, stdin, quiet))
}

/// What a command reads from `path` in the container: a mounted secret's plaintext (read
/// inside the engine, as the engine mounts it), or a file the chain put there; the shell's
/// error otherwise (dash: `cannot open <path>: No such file`, exit 2).
fn file_in_container(
    ctx: &Ctx,
    container: &ContainerState,
    path: &str,
) -> Result<String, ExecOutput> {
    if let Some(id) = container.secret_files.get(path) {
        if let Ok(State::Secret(secret)) = ctx.eval_id(id) {
            if let Ok(plaintext) = secret.plaintext(ctx) {
                return Ok(plaintext);
            }
        }
    }
    container.fs.get(path).cloned().ok_or_else(|| ExecOutput {
        stdout: String::new(),
        stderr: format!("sh: 1: cannot open {path}: No such file\n"),
        exit_code: 2,
    })
}

/// `skopeo login [--authfile P] --username U --password-stdin <host>` (containers/common
/// `pkg/auth/auth.go`, `Login`: the password read from standard input without its trailing
/// newline, checked against the registry, then stored in the auth file).
fn login(
    ctx: &Ctx,
    args: &[String],
    stdin: Option<String>,
    auth_files: &mut AuthFiles,
) -> ExecOutput {
    let mut authfile = None;
    let mut username = None;
    let mut password_stdin = false;
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        match arg.as_str() {
            "--password-stdin" => password_stdin = true,
            "--authfile" | "--username" | "-u" => {
                let Some(value) = args.get(i).cloned() else {
                    return fatal(&format!("flag needs an argument: {arg}"));
                };
                i += 1;
                if arg == "--authfile" {
                    authfile = Some(value);
                } else {
                    username = Some(value);
                }
            }
            flag if flag.starts_with('-') => return fatal(&format!("unknown flag: {flag}")),
            _ => positional.push(arg.clone()),
        }
    }
    let [host] = positional.as_slice() else {
        return fatal("login accepts only one registry");
    };
    let (Some(username), true) = (username, password_stdin) else {
        return fatal(
            "mock engine: skopeo login is modelled with --username and --password-stdin only",
        );
    };
    let password = stdin.unwrap_or_default();
    let password = password.strip_suffix('\n').unwrap_or(&password).to_string();
    let Some(authfile) = authfile else {
        return fatal("mock engine: give skopeo login an --authfile");
    };
    {
        let mut state = ctx.state();
        let reg = state.registry(host);
        if reg.unreachable {
            let hostname = host.split(':').next().unwrap_or(host);
            return fatal(&format!(
                "authenticating creds for {}: pinging container registry {host}: Get \"https://{host}/v2/\": dial tcp: lookup {hostname}: no such host",
                go_quote(host)
            ));
        }
        let known = reg
            .accounts
            .get(&username)
            .is_some_and(|(expected, _)| *expected == password);
        if reg.backend.is_none() && !known {
            return fatal(&format!(
                "authenticating creds for {}: invalid username/password: unauthorized: authentication required",
                go_quote(host)
            ));
        }
    }
    auth_files.insert(authfile, (username, password));
    ExecOutput {
        stdout: "Login Succeeded!\n".into(),
        stderr: String::new(),
        exit_code: 0,
    }
}

fn is_shell(program: &str) -> bool {
    matches!(base_name(program), "sh" | "bash" | "dash" | "ash")
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The command's environment: the container's variables and its secret variables (read inside
/// the engine, as the engine mounts them; not a client's plaintext read).
fn environment(ctx: &Ctx, container: &ContainerState) -> BTreeMap<String, String> {
    let mut env = container.env.clone();
    for (name, secret_id) in &container.secret_env {
        if let Ok(State::Secret(secret)) = ctx.eval_id(secret_id) {
            if let Ok(plaintext) = secret.plaintext(ctx) {
                env.insert(name.clone(), plaintext);
            }
        }
    }
    env
}

/// The command `sh -c <script> [$0 [$1 ...]]` runs, when the script is one simple command
/// (optionally after `exec`): words that are plain, `'...'`- or `"..."`-quoted, with `$NAME`,
/// `${NAME}`, `$0`..`$9` and `"$@"` expanded (POSIX `sh`, "Shell Command Language": 2.2 Quoting,
/// 2.6 Word Expansions). `None` for anything more (pipes, lists, redirections, substitutions):
/// the model does not guess.
fn shell_command(
    script: &str,
    positional: &[String],
    env: &BTreeMap<String, String>,
) -> Option<Vec<String>> {
    let lookup = |name: &str| -> Vec<String> {
        match name {
            "@" => positional.iter().skip(1).cloned().collect(),
            n if n.chars().all(|c| c.is_ascii_digit()) => {
                let i: usize = n.parse().ok().unwrap_or(usize::MAX);
                positional.get(i).cloned().into_iter().collect()
            }
            n => env.get(n).cloned().into_iter().collect(),
        }
    };
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    // Whether the current word has any quote or text: `""` is a word, an empty `$X` is not.
    let mut started = false;
    let mut chars = script.chars().peekable();
    let mut in_double = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' if !in_double => {
                started = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => current.push(other),
                    }
                }
            }
            '"' => {
                started = true;
                in_double = !in_double;
            }
            '\\' => {
                let next = chars.next()?;
                if in_double && !matches!(next, '$' | '`' | '"' | '\\') {
                    current.push('\\');
                }
                current.push(next);
                started = true;
            }
            '$' => {
                let name = variable_name(&mut chars)?;
                let values = lookup(&name);
                if name == "@" {
                    // "$@" (alone in its word) is one word per argument; unquoted, the same
                    // for arguments without spaces, which is all the model needs.
                    if !current.is_empty() {
                        return None;
                    }
                    if in_double {
                        if chars.next() != Some('"') {
                            return None;
                        }
                        in_double = false;
                    }
                    match chars.peek() {
                        None | Some(' ' | '\t' | '\n') => {}
                        Some(_) => return None,
                    }
                    words.extend(values);
                    started = false;
                    continue;
                }
                let value = values.join(" ");
                if !value.is_empty() || in_double {
                    started = true;
                }
                current.push_str(&value);
            }
            ' ' | '\t' | '\n' if !in_double => {
                if started {
                    words.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '`' | '*' | '?' | '[' | '#' | '~'
                if !in_double =>
            {
                return None
            }
            '`' => return None,
            other => {
                current.push(other);
                started = true;
            }
        }
    }
    if in_double {
        return None;
    }
    if started {
        words.push(current);
    }
    if words.first().map(String::as_str) == Some("exec") {
        words.remove(0);
    }
    (!words.is_empty()).then_some(words)
}

/// The name after a `$`: `{NAME}`, `NAME`, one digit, or `@`.
fn variable_name(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
    match chars.peek().copied()? {
        '{' => {
            chars.next();
            let mut name = String::new();
            loop {
                match chars.next()? {
                    '}' => break,
                    c if c.is_ascii_alphanumeric() || c == '_' || c == '@' => name.push(c),
                    _ => return None,
                }
            }
            (!name.is_empty()).then_some(name)
        }
        '@' => {
            chars.next();
            Some("@".into())
        }
        c if c.is_ascii_digit() => {
            chars.next();
            Some(c.to_string())
        }
        c if c.is_ascii_alphabetic() || c == '_' => {
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    name.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            Some(name)
        }
        // `$(`, `$$`, `$?`...: not modelled.
        _ => None,
    }
}

/// The options of `skopeo list-tags` (containers/skopeo `cmd/skopeo/utils.go`,
/// `dockerImageFlags`, and `list_tags.go`).
#[derive(Debug, Default)]
struct ListTagsOptions {
    authfile: Option<String>,
    username: Option<String>,
    password: Option<String>,
    creds: Option<String>,
    no_creds: bool,
    positional: Vec<String>,
}

fn parse_options(args: &[String]) -> Result<ListTagsOptions, String> {
    const VALUED: &[&str] = &[
        "--username",
        "--password",
        "--creds",
        "--authfile",
        "--cert-dir",
        "--registry-token",
        "--retry-times",
        "--retry-delay",
    ];
    let mut opts = ListTagsOptions::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if !arg.starts_with("--") {
            opts.positional.push(arg.clone());
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        if flag == "--no-creds" || flag == "--tls-verify" || flag == "--debug" {
            opts.no_creds |= flag == "--no-creds";
            continue;
        }
        if !VALUED.contains(&flag) {
            return Err(format!("unknown flag: {flag}"));
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let v = args
                    .get(i)
                    .cloned()
                    .ok_or_else(|| format!("flag needs an argument: {flag}"))?;
                i += 1;
                v
            }
        };
        match flag {
            "--username" => opts.username = Some(value),
            "--password" => opts.password = Some(value),
            "--creds" => opts.creds = Some(value),
            "--authfile" => opts.authfile = Some(value),
            _ => {}
        }
    }
    Ok(opts)
}

/// `skopeo list-tags [options] docker://<repository>` against the registry model.
fn list_tags(ctx: &Ctx, args: &[String], auth_files: &AuthFiles) -> ExecOutput {
    let opts = match parse_options(args) {
        Ok(o) => o,
        Err(e) => return fatal(&e),
    };
    // utils.go, newSystemContext: the credential options' rules.
    if opts.creds.is_some() && opts.no_creds {
        return fatal("creds and no-creds cannot be specified at the same time");
    }
    if opts.username.is_some() && opts.no_creds {
        return fatal("username and no-creds cannot be specified at the same time");
    }
    if opts.creds.is_some() && opts.username.is_some() {
        return fatal("creds and username cannot be specified at the same time");
    }
    match (&opts.username, &opts.password) {
        (Some(_), None) => return fatal("password must be specified when username is specified"),
        (None, Some(_)) => return fatal("username must be specified when password is specified"),
        _ => {}
    }
    let credentials = match (&opts.creds, opts.username, opts.password) {
        (Some(creds), _, _) => match creds.split_once(':') {
            Some((u, p)) => Some((u.to_string(), p.to_string())),
            None => return fatal("mock engine: give --creds as USERNAME:PASSWORD"),
        },
        (None, Some(u), Some(p)) => Some((u, p)),
        // An auth file `skopeo login` wrote in this command; one that does not exist is
        // containers/image's read error.
        _ => match &opts.authfile {
            Some(path) => match auth_files.get(path) {
                Some(credentials) => Some(credentials.clone()),
                None => {
                    return fatal(&format!(
                        "Error listing repository tags: reading JSON file {}: open {path}: no such file or directory",
                        go_quote(path)
                    ))
                }
            },
            None => None,
        },
    };
    let [target] = opts.positional.as_slice() else {
        return fatal("Exactly one non-option argument expected");
    };
    let Some(reference) = target.strip_prefix("docker://") else {
        return fatal(&format!(
            "mock engine: skopeo list-tags is modelled for docker:// repositories only, got {target:?}"
        ));
    };
    let address = match parse_address(reference) {
        Ok(a) => a,
        Err(e) => return fatal(&format!("Invalid reference format: {e}")),
    };
    if address.tag.is_some() || address.digest.is_some() {
        return fatal("No tag or digest allowed in reference");
    }
    let name = format!("{}/{}", address.host, address.repository);
    let listed = {
        let mut state = ctx.state();
        let reg = state.registry(&address.host);
        if reg.unreachable {
            let hostname = address.host.split(':').next().unwrap_or(&address.host);
            return fatal(&format!(
                "Error listing repository tags: pinging container registry {}: Get \"https://{}/v2/\": dial tcp: lookup {hostname}: no such host",
                address.host, address.host
            ));
        }
        match &reg.backend {
            Some(backend) => Listing::Backend(backend.clone()),
            None => Listing::Model(model_tags(reg, credentials.as_ref(), &address.repository)),
        }
    };
    let tags = match listed {
        Listing::Model(result) => result,
        Listing::Backend(backend) => backend_tags(backend, credentials, &address.repository),
    };
    match tags {
        Ok(tags) => {
            let body = serde_json::json!({ "Repository": name, "Tags": tags });
            let text = serde_json::to_string_pretty(&body).unwrap_or_default();
            ExecOutput {
                stdout: format!("{text}\n"),
                stderr: String::new(),
                exit_code: 0,
            }
        }
        Err(cause) => fatal(&format!(
            "Error listing repository tags: fetching tags list: {cause}"
        )),
    }
}

enum Listing {
    Model(Result<Vec<String>, String>),
    Backend(Arc<dyn RegistryBackend>),
}

/// The tags as the model's registry answers `GET /v2/<name>/tags/list`: an account's password
/// must match (any account may read); without credentials, the host must allow anonymous
/// access.
fn model_tags(
    reg: &RegistryState,
    credentials: Option<&(String, String)>,
    repository: &str,
) -> Result<Vec<String>, String> {
    let allowed = match credentials {
        Some((user, password)) => reg
            .accounts
            .get(user)
            .is_some_and(|(expected, _)| expected == password),
        None => reg.allow_anonymous_push,
    };
    if !allowed {
        return Err("unauthorized: authentication required".into());
    }
    reg.repositories
        .get(repository)
        .map(|tags| tags.keys().cloned().collect())
        .ok_or_else(|| "name unknown: repository name not known to registry".into())
}

/// The tags of a repository of the real registry behind the model, with the command's
/// credentials. The exec is evaluated synchronously, so the request runs on a thread of its own.
fn backend_tags(
    backend: Arc<dyn RegistryBackend>,
    credentials: Option<(String, String)>,
    repository: &str,
) -> Result<Vec<String>, String> {
    use dagger_engine::registry::RepositoryName;
    let repository = RepositoryName::parse(repository).map_err(|e| e.to_string())?;
    let credentials = credentials.map(|(username, password)| BackendCredentials {
        username,
        password: password.into(),
    });
    let listed = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        format!("mock engine: no runtime for the registry request: {e}")
                    })?;
                runtime
                    .block_on(backend.list_tags(credentials, &repository))
                    .map_err(|e| match e {
                        BackendError::Unauthorized => {
                            "unauthorized: authentication required".to_string()
                        }
                        other => other.to_string(),
                    })
            })
            .join()
            .unwrap_or_else(|_| Err("mock engine: the registry request panicked".into()))
    })?;
    Ok(listed)
}

/// skopeo's failure: logrus' fatal line (`logrus.Fatal` in `cmd/skopeo/main.go`), exit code 1.
fn fatal(message: &str) -> ExecOutput {
    ExecOutput {
        stdout: String::new(),
        stderr: format!(
            "time=\"{}\" level=fatal msg={}\n",
            utc_now(),
            go_quote(message)
        ),
        exit_code: 1,
    }
}

/// The current time as logrus prints it (RFC 3339, UTC).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = dagger_engine::civil::civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_simple_shell_command_is_expanded() {
        let env: BTreeMap<String, String> = [("PW", "s3 cret"), ("USER", "ci")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let got = shell_command(
            r#"exec skopeo list-tags --password "$PW" --username ${USER} "$@""#,
            &strings(&["skopeo", "docker://r.example/a b", "x"]),
            &env,
        );
        assert_eq!(
            got.unwrap(),
            strings(&[
                "skopeo",
                "list-tags",
                "--password",
                "s3 cret",
                "--username",
                "ci",
                "docker://r.example/a b",
                "x"
            ])
        );
        assert_eq!(
            shell_command("echo '$PW' \"\" $UNSET $1", &strings(&["sh", "one"]), &env).unwrap(),
            strings(&["echo", "$PW", "", "one"])
        );
    }

    #[test]
    fn anything_beyond_one_simple_command_is_not_guessed() {
        let env = BTreeMap::new();
        for script in [
            "a | b",
            "a; b",
            "a && b",
            "a > f",
            "echo $(id)",
            "echo `id`",
            "echo \"unterminated",
            "echo *",
        ] {
            assert_eq!(shell_command(script, &[], &env), None, "{script}");
        }
    }

    #[test]
    fn list_tags_options_follow_skopeo() {
        let opts = parse_options(&strings(&[
            "--username",
            "ci",
            "--password=pw",
            "--tls-verify=false",
            "docker://r/x",
        ]))
        .unwrap();
        assert_eq!(opts.username.as_deref(), Some("ci"));
        assert_eq!(opts.password.as_deref(), Some("pw"));
        assert_eq!(opts.positional, ["docker://r/x"]);
        assert!(parse_options(&strings(&["--bogus"])).is_err());
        assert!(parse_options(&strings(&["--username"])).is_err());
    }

    #[test]
    fn fatal_lines_look_like_logrus() {
        let out = fatal("Error listing repository tags: fetching tags list: x \"y\"");
        assert_eq!(out.exit_code, 1);
        assert!(out.stderr.starts_with("time=\""), "{}", out.stderr);
        assert!(
            out.stderr.ends_with(
                "Z\" level=fatal msg=\"Error listing repository tags: fetching tags list: x \\\"y\\\"\"\n"
            ),
            "{}",
            out.stderr
        );
        assert_eq!(utc_now().len(), "2024-08-12T10:00:00Z".len());
    }
}
