//! One run's life as the process lives it: logs, overlap protection, time limits, signals.

use std::time::Duration;

both_backends!(every_stdout_line_is_json_with_batch_and_run_id, |db| {
    for args in [
        &["canary"][..],
        &["canary", "--fail"][..],
        &["history-prune"][..],
    ] {
        let output = db.run(args);
        let lines = output.json_lines();
        assert!(lines.len() >= 2, "{lines:#?}");
        let run_id = lines[0]["run_id"].as_str().expect("run_id").to_owned();
        for line in &lines {
            assert_eq!(line["batch"], args[0], "{line}");
            assert_eq!(line["run_id"], run_id.as_str(), "{line}");
            for key in ["timestamp", "level", "message", "target"] {
                assert!(line.get(key).is_some(), "`{key}` missing: {line}");
            }
        }
        assert_eq!(
            lines
                .iter()
                .filter(|l| l["message"] == "run started")
                .count(),
            1
        );
        let finished = output.finished();
        assert_eq!(finished["exit_code"], output.code);
        assert!(finished["duration_ms"].is_u64(), "{finished}");
        assert!(finished["counts"].is_object(), "{finished}");
    }
});

both_backends!(a_failing_batch_exits_1_and_records_its_error, |db| {
    let output = db.run(&["canary", "--fail"]);
    output.assert_code(1);
    let finished = output.finished();
    assert_eq!(finished["status"], "failed");
    assert!(
        finished["error"]
            .as_str()
            .unwrap()
            .contains("failing on purpose")
    );
    let record = db.run_record(&output.run_id());
    assert_eq!(record["status"], "failed");
    assert_eq!(record["exit_code"], 1);
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("failing on purpose")
    );
});

both_backends!(
    a_second_run_of_an_exclusive_batch_is_skipped_until_the_holder_dies,
    |db| {
        let first = db.spawn(&["canary", "--hold", "60s"]);
        let holder = first.wait_for_message("lock acquired", Duration::from_secs(20));
        let holder_run_id = holder["run_id"].as_str().unwrap().to_owned();

        let second = db.run(&["canary"]);
        second.assert_code(0);
        assert_eq!(second.finished()["status"], "skipped");
        let warning = second
            .json_lines()
            .into_iter()
            .find(|l| l["level"] == "WARN" && l["message"].as_str().unwrap().contains("skipped"))
            .expect("a WARN line says why the run was skipped");
        assert_eq!(warning["holder_run_id"], holder_run_id.as_str());
        assert_eq!(db.run_record(&second.run_id())["status"], "skipped");

        // However the holder dies, the lock goes with it.
        first.signal("KILL");
        let (code, _, _) = first.wait(Duration::from_secs(10));
        assert_eq!(code, None, "killed by a signal");
        let third = crate::helpers::eventually(
            "the next run gets the lock",
            Duration::from_secs(10),
            || {
                let output = db.run(&["canary"]);
                (output.finished()["status"] == "succeeded").then_some(output)
            },
        );
        third.assert_code(0);
        assert_eq!(
            db.run_record(&holder_run_id)["status"],
            "running",
            "a killed run cannot record its end"
        );
    }
);

both_backends!(
    sigterm_records_interrupted_and_exits_within_the_bound,
    |db| {
        for signal in ["TERM", "INT"] {
            let running = db.spawn(&["canary", "--hold", "60s"]);
            running.wait_for_message("holding the lock", Duration::from_secs(20));
            running.signal(signal);
            let (code, lines, waited) = running.wait(Duration::from_secs(25));
            assert_eq!(code, Some(143), "SIG{signal}");
            assert!(waited < Duration::from_secs(25), "exited after {waited:?}");
            let lines = crate::helpers::json_lines(&lines.join("\n"));
            let finished = crate::helpers::finished_line(&lines);
            assert_eq!(finished["status"], "interrupted");
            assert!(
                finished["error"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("SIG{signal}")),
                "{finished}"
            );
            let record = db.run_record(finished["run_id"].as_str().unwrap());
            assert_eq!(record["status"], "interrupted");
            assert_eq!(record["exit_code"], 143);
        }
        // The lock was released on the way out.
        assert_eq!(db.run(&["canary"]).finished()["status"], "succeeded");
    }
);

both_backends!(
    a_run_past_its_time_limit_is_stopped_and_recorded_timed_out,
    |db| {
        let by_flag = db.run(&["canary", "--hold", "60s", "--max-runtime", "1s"]);
        let by_env = db.run_with(&["canary", "--hold", "60s"], &[("BATCH_MAX_RUNTIME", "1s")]);
        for output in [by_flag, by_env] {
            output.assert_code(124);
            let finished = output.finished();
            assert_eq!(finished["status"], "timed_out");
            assert!(
                finished["duration_ms"].as_u64().unwrap() < 10_000,
                "{finished}"
            );
            let record = db.run_record(&output.run_id());
            assert_eq!(record["status"], "timed_out");
            assert_eq!(record["exit_code"], 124);
        }
    }
);

both_backends!(
    the_ecs_task_arn_is_recorded_from_the_metadata_endpoint,
    |db| {
        // ECS's task metadata endpoint cannot run here; a one-shot HTTP server answers like it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let arn = "arn:aws:ecs:ap-northeast-1:123456789012:task/batch/0123456789abcdef";
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let n = stream.read(&mut request).unwrap();
            let request = String::from_utf8_lossy(&request[..n]).into_owned();
            let body = format!(r#"{{"Cluster":"batch","TaskARN":"{arn}"}}"#);
            write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
            request
        });
        let uri = format!("http://{address}/v4/abc-123");
        let output = db.run_with(
            &["canary"],
            &[("ECS_CONTAINER_METADATA_URI_V4", uri.as_str())],
        );
        output.assert_code(0);
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /v4/abc-123/task "), "{request}");
        assert_eq!(db.run_record(&output.run_id())["ecs_task_arn"], arn);
    }
);
