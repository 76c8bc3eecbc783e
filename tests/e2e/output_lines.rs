//! `subtaskOutput.text` is one line of output without its terminator (issue 18), over the real
//! binary: `\n` and `\r\n` endings, an empty line, a last line without `\n`, stdout and stderr,
//! Russian text — each line one event, none with a line break in it.

use serde_json::json;

use crate::harness::{ServerSetup, TestServer, create_and_execute, shell, workspace};

#[test]
fn every_output_event_is_one_line_without_its_terminator() {
    let dir = workspace();
    let setup = ServerSetup { work_done_progress: false, ..ServerSetup::new(dir.path()) };
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let script = r"printf 'first\r\nsecond\n\nТретья строка, по-русски\n'; printf 'to stderr\r\n' >&2; printf 'last without newline'";
    let (_plan_id, run_id) = create_and_execute(&mut server, "print lines", vec![shell("p", script, &[])], json!({}));
    let events = server.collect_run_events(&run_id);
    let mut lines: Vec<String> = events
        .iter()
        .filter(|event| event["kind"] == "subtaskOutput")
        .map(|event| event["text"].as_str().expect("text").to_owned())
        .collect();
    for line in &lines {
        assert!(!line.contains('\n') && !line.contains('\r'), "a line break inside an event: {line:?}");
    }
    let stderr_line = lines.iter().position(|line| line == "to stderr").expect("the stderr line");
    lines.remove(stderr_line);
    assert_eq!(lines, ["first", "second", "", "Третья строка, по-русски", "last without newline"]);
    assert_eq!(events.last().map(|event| event["status"].clone()), Some(json!("completed")));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
