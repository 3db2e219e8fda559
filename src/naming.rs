//! What a function's name says it does: change state, check something, or only read. The
//! concurrency transforms and the project index ask it of callees whose bodies they cannot see,
//! or of the calls a body makes.

/// Words that name a write or a change of state. A call whose name holds one (`save_order`,
/// `session_login`, `updateCache`) likely changes what a later call of the same run reads
/// (`load_order`, `fetch_profile`), so it ends the run: a wrong guess costs only a missed gather.
const STATE_CHANGING_WORDS: &[&str] = &[
    "ack",
    "acquire",
    "add",
    "append",
    "apply",
    "approve",
    "archive",
    "authenticate",
    "authorize",
    "bind",
    "cancel",
    "charge",
    "claim",
    "clear",
    "close",
    "commit",
    "connect",
    "create",
    "declare",
    "decr",
    "decrement",
    "delattr",
    "delete",
    "disable",
    "discard",
    "disconnect",
    "drop",
    "emit",
    "enable",
    "enqueue",
    "evict",
    "executemany",
    "executescript",
    "expire",
    "extend",
    "flush",
    "grant",
    "hdel",
    "heappush",
    "hset",
    "incr",
    "incrby",
    "increment",
    "init",
    "initialize",
    "insert",
    "invalidate",
    "kill",
    "lock",
    "login",
    "logout",
    "lpop",
    "lpush",
    "mark",
    "migrate",
    "mkdir",
    "move",
    "nack",
    "next",
    "notify",
    "open",
    "patch",
    "pause",
    "pay",
    "persist",
    "pop",
    "popitem",
    "post",
    "publish",
    "purge",
    "push",
    "put",
    "record",
    "refresh",
    "refund",
    "register",
    "reject",
    "release",
    "remove",
    "rename",
    "reserve",
    "reset",
    "restore",
    "resume",
    "revoke",
    "rmdir",
    "rpop",
    "rpush",
    "sadd",
    "save",
    "send",
    "set",
    "setattr",
    "setdefault",
    "setex",
    "setup",
    "shutdown",
    "signin",
    "signup",
    "srem",
    "start",
    "stop",
    "store",
    "submit",
    "subscribe",
    "sync",
    "terminate",
    "transfer",
    "truncate",
    "unlink",
    "unlock",
    "unsubscribe",
    "update",
    "upload",
    "upsert",
    "write",
    "zadd",
    "zrem",
];

/// Words that name a check: a call named with one (`check_team_exists`, `validate_token`,
/// `ensureAccess`) likely raises to stop what follows.
const CHECKING_WORDS: &[&str] = &[
    "assert",
    "authorize",
    "check",
    "enforce",
    "ensure",
    "guard",
    "limit",
    "permit",
    "precheck",
    "quota",
    "require",
    "throttle",
    "validate",
    "verify",
    "wait",
];

/// Words that name a read: a call named with one (`fetch_profile`, `getUser`, `list_orders`)
/// likely only reads, so it may start before the calls above it have finished.
const READING_WORDS: &[&str] = &[
    "count", "describe", "exists", "fetch", "find", "get", "has", "head", "info", "list", "load", "lookup",
    "ping", "probe", "query", "read", "retrieve", "scan", "search", "select", "size", "stat", "status",
];

/// Words that name a runner: what a call named with one does (`run_command`, `execute`,
/// `session.request`) depends on its arguments.
const RUNNER_WORDS: &[&str] = &[
    "call", "dispatch", "exec", "execute", "handle", "invoke", "perform", "process", "request", "run",
    "spawn",
];

/// Words that name a connection: one object of the kind often runs one call at a time (a
/// database connection or session, a cursor, a socket).
const CONNECTION_WORDS: &[&str] = &[
    "channel",
    "client",
    "conn",
    "connection",
    "cur",
    "cursor",
    "database",
    "db",
    "device",
    "engine",
    "pipe",
    "pipeline",
    "port",
    "protocol",
    "queue",
    "reader",
    "serial",
    "session",
    "sock",
    "socket",
    "stream",
    "transaction",
    "transport",
    "tx",
    "websocket",
    "writer",
    "ws",
];

/// Whether a variable's name says it holds a [connection](CONNECTION_WORDS) (`conn`, `db_session`).
pub fn names_a_connection(name: &str) -> bool {
    words_of(name).iter().any(|word| CONNECTION_WORDS.contains(&word.as_str()))
}

/// Whether a name holds a [runner word](RUNNER_WORDS).
pub fn names_a_runner(name: &str) -> bool {
    words_of(name).iter().any(|word| RUNNER_WORDS.contains(&word.as_str()))
}

/// Whether a name holds a [state-changing word](STATE_CHANGING_WORDS), in snake_case or camelCase.
pub fn names_a_state_change(name: &str) -> bool {
    words_of(name).iter().any(|word| STATE_CHANGING_WORDS.binary_search(&word.as_str()).is_ok())
}

/// Whether a name holds a [checking word](CHECKING_WORDS).
pub fn names_a_check(name: &str) -> bool {
    words_of(name).iter().any(|word| CHECKING_WORDS.contains(&word.as_str()))
}

/// Whether a name holds a [reading word](READING_WORDS) and no state-changing or checking one.
pub fn names_a_read(name: &str) -> bool {
    // `fetch_and_ack` reads only if each part does.
    let words = words_of(name);
    let reads = words
        .split(|word| word == "and" || word == "or")
        .all(|part| part.iter().any(|word| READING_WORDS.contains(&word.as_str())));
    reads && !names_a_state_change(name) && !names_a_check(name) && !names_a_runner(name)
}

/// Whether awaiting a call of this name, in a coroutine's body, keeps the body read-only: the call
/// [reads](names_a_read), or only waits (`asyncio.sleep`).
pub fn awaits_only_a_read(name: &str) -> bool {
    name == "sleep" || names_a_read(name)
}

/// The lower-case words of a snake_case or camelCase name.
fn words_of(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in name.chars() {
        if (c == '_' || c.is_uppercase()) && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c != '_' {
            current.extend(c.to_lowercase());
        }
    }
    words.push(current);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checking_and_reading_names() {
        for name in ["check_team_exists", "validateToken", "ensure_access", "verify"] {
            assert!(names_a_check(name), "{name}");
        }
        for name in ["fetch_profile", "getUser", "list_orders", "load"] {
            assert!(names_a_read(name), "{name}");
        }
        for name in [
            "fetch_and_update",
            "one",
            "summarize",
            "check_and_get",
            "checkout",
            "fetch_and_ack",
            "get_next_ticket",
        ] {
            assert!(!names_a_read(name), "{name}");
        }
    }

    #[test]
    fn state_changing_names() {
        assert!(STATE_CHANGING_WORDS.windows(2).all(|w| w[0] < w[1]), "sorted for binary_search");
        for name in ["save", "save_order", "session_login", "updateCache", "set_value", "doPost"] {
            assert!(names_a_state_change(name), "{name}");
        }
        for name in ["fetch_user", "load", "get_settings", "reset_password_page_html_text"] {
            assert_eq!(names_a_state_change(name), name.contains("reset"), "{name}");
        }
    }
}
