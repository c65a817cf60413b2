//! The deployment definitions checked against each other: every task of `statemachine/reconcile.asl.json`
//! resolves to a function or queue of `template.yaml`, every Map item is retried and caught, the entry Choice
//! routes both input shapes, and the template keeps its operational promises (queue visibility ≥ 6× the ingest
//! timeout, a dead-letter queue, partial batch failures, 14-day logs, no `*` IAM action, arm64 cargo-lambda
//! builds). Then `cfn-lint` and `asl-validator` when installed (CI requires them: `SYNCRO_NO_SKIP=1`).

use crate::common;

use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn template() -> Yaml {
    serde_yaml_ng::from_str(&std::fs::read_to_string(root().join("template.yaml")).unwrap()).unwrap()
}

fn definition() -> Json {
    serde_json::from_str(&std::fs::read_to_string(root().join("statemachine/reconcile.asl.json")).unwrap()).unwrap()
}

/// A CloudFormation intrinsic (`!Ref X`, `!GetAtt X.Arn`…) as (tag, argument).
fn intrinsic(v: &Yaml) -> Option<(String, String)> {
    match v {
        Yaml::Tagged(t) => Some((t.tag.to_string(), t.value.as_str().unwrap_or_default().to_string())),
        _ => None,
    }
}

/// Every state, nested ones (Map item processors) included, with its name.
fn states(definition: &Json) -> Vec<(String, Json)> {
    let mut out = Vec::new();
    for (name, state) in definition["States"].as_object().unwrap() {
        out.push((name.clone(), state.clone()));
        if let Some(processor) = state.get("ItemProcessor") {
            out.extend(states(processor));
        }
    }
    out
}

fn substitution_key(s: &str) -> &str {
    s.strip_prefix("${").and_then(|s| s.strip_suffix('}')).unwrap_or_else(|| panic!("{s:?} is not a ${{…}}"))
}

#[test]
fn every_task_resolves_to_a_function_or_queue_of_the_template() {
    let (t, d) = (template(), definition());
    let resources = &t["Resources"];
    let machine = resources
        .as_mapping()
        .unwrap()
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::Serverless::StateMachine")
        .map(|(_, r)| r)
        .expect("a state machine");
    assert_eq!(machine["Properties"]["DefinitionUri"], "statemachine/reconcile.asl.json");
    assert_eq!(machine["Properties"]["Type"], "STANDARD");
    let substitutions = machine["Properties"]["DefinitionSubstitutions"].as_mapping().unwrap();
    let resolve = |placeholder: &str| -> (String, String) {
        let key = substitution_key(placeholder);
        let (tag, arg) = intrinsic(&substitutions[key]).unwrap_or_else(|| panic!("{key}: not an intrinsic"));
        let resource = arg.split('.').next().unwrap().to_string();
        let kind = resources[resource.as_str()]["Type"].as_str().unwrap_or_else(|| panic!("{resource}?")).to_string();
        (format!("{tag} {arg}"), kind)
    };
    let mut used = BTreeSet::new();
    let mut tasks = 0;
    for (name, state) in states(&d) {
        if state["Type"] != "Task" {
            continue;
        }
        tasks += 1;
        let p = &state["Parameters"];
        match state["Resource"].as_str().unwrap() {
            "arn:aws:states:::lambda:invoke" => {
                let f = p["FunctionName"].as_str().unwrap();
                let (how, kind) = resolve(f);
                assert_eq!(kind, "AWS::Serverless::Function", "{name}: {f} is {how}");
                assert!(how.ends_with(".Arn"), "{name}: {how}");
                used.insert(substitution_key(f).to_string());
            }
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken" => {
                let q = p["QueueUrl"].as_str().unwrap();
                let (how, kind) = resolve(q);
                assert_eq!((how.as_str(), kind.as_str()), ("!Ref IngestQueue", "AWS::SQS::Queue"), "{name}");
                assert_eq!(p["MessageBody"]["task_token.$"], "$$.Task.Token", "{name}");
                used.insert(substitution_key(q).to_string());
                // The queue is what feeds the ingest function.
                let events = resources["IngestFunction"]["Properties"]["Events"].as_mapping().unwrap();
                let feeds = events.values().any(|e| {
                    e["Type"] == "SQS"
                        && intrinsic(&e["Properties"]["Queue"]) == Some(("!GetAtt".into(), "IngestQueue.Arn".into()))
                });
                assert!(feeds, "the ingest function consumes the queue the Map sends to");
            }
            other => panic!("{name}: unexpected resource {other}"),
        }
    }
    assert_eq!(tasks, 7, "Discover, Ingest, Load, IngestAgain, LoadRetried, LoadOne, LoadUploads");
    // The Distributed Maps write their results to the statements bucket.
    for (name, state) in states(&d).into_iter().filter(|(_, s)| s["Type"] == "Map") {
        let bucket = state["ResultWriter"]["Parameters"]["Bucket"].as_str().unwrap_or_else(|| panic!("{name}"));
        let (how, kind) = resolve(bucket);
        assert_eq!((how.as_str(), kind.as_str()), ("!Ref StatementBucket", "AWS::S3::Bucket"), "{name}");
        used.insert(substitution_key(bucket).to_string());
    }
    let declared: BTreeSet<String> = substitutions.keys().map(|k| k.as_str().unwrap().to_string()).collect();
    assert_eq!(used, declared, "every substitution is used and every placeholder substituted");
    // Every transition names an existing state (nested ones within their processor).
    let names: BTreeSet<String> = states(&d).into_iter().map(|(n, _)| n).collect();
    for (name, state) in states(&d) {
        let mut targets: Vec<&str> = state["Next"].as_str().into_iter().collect();
        targets.extend(state["Default"].as_str());
        for c in
            state["Choices"].as_array().into_iter().flatten().chain(state["Catch"].as_array().into_iter().flatten())
        {
            targets.extend(c["Next"].as_str());
        }
        for t in targets {
            assert!(names.contains(t), "{name} → {t}: no such state");
        }
    }
}

/// The database as production runs it (issue 16, item 9): migrations are a deploy step — a custom resource
/// runs the migrate function whenever the latest migration changes — and the functions hold connections
/// within a budget: the loads' reserved concurrency is what the ingest's share leaves for them; VPC
/// parameters come together or not at all.
#[test]
fn the_database_is_migrated_at_deploy_and_connections_stay_within_a_budget() {
    let t = template();
    let r = &t["Resources"];
    let migration = &r["SchemaMigration"];
    assert_eq!(migration["Type"], "Custom::SchemaMigration");
    assert_eq!(intrinsic(&migration["Properties"]["ServiceToken"]).unwrap().1, "MigrateFunction.Arn");
    let latest = std::fs::read_dir(root().join("migrations"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_prefix('V')?.split("__").next()?.parse::<i32>().ok()
        })
        .max()
        .unwrap();
    assert_eq!(latest, syncrocardpay_core::db::latest_migration());
    assert_eq!(
        migration["Properties"]["MigrationsVersion"].as_str(),
        Some(latest.to_string().as_str()),
        "bump SchemaMigration's MigrationsVersion with every migration, or deploys will not apply it"
    );
    assert_eq!(r["MigrateFunction"]["Properties"]["CodeUri"], "functions/migrate");
    let ingest = &r["IngestFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(intrinsic(&ingest["DB_CONNECTION_BUDGET"]).unwrap().1, "DbConnectionBudget");
    assert_eq!(intrinsic(&ingest["MAX_CONCURRENCY"]).unwrap().1, "MaxConcurrency");
    assert_eq!(intrinsic(&ingest["LOAD_CONCURRENCY"]).unwrap().1, "LoadConcurrency");
    assert_eq!(
        intrinsic(&r["LoadFunction"]["Properties"]["ReservedConcurrentExecutions"]).unwrap().1,
        "LoadConcurrency"
    );
    // The defaults fit: what the loads, discovery and the migration leave is shared by the ingest Lambdas.
    let default = |p: &str| t["Parameters"][p]["Default"].as_u64().unwrap();
    let share = syncrocardpay_ingest::connection_share(
        default("DbConnectionBudget"),
        default("MaxConcurrency") + default("UploadConcurrency"),
        default("LoadConcurrency"),
    );
    assert!(share.as_ref().is_ok_and(|s| *s >= 1), "{share:?}");
    assert_eq!(intrinsic(&ingest["UPLOAD_CONCURRENCY"]).unwrap().1, "UploadConcurrency");
    // Even at their smallest, the budget fits both queues' smallest concurrency.
    let least = |p: &str| t["Parameters"][p]["MinValue"].as_u64().unwrap();
    let ingest_lambdas = least("MaxConcurrency") + least("UploadConcurrency");
    assert!(syncrocardpay_ingest::connection_share(least("DbConnectionBudget"), ingest_lambdas, 1).is_ok());
    for rule in ["SubnetsNeedSecurityGroups", "SecurityGroupsNeedSubnets"] {
        assert!(t["Rules"][rule]["Assertions"][0]["AssertDescription"].is_string(), "{rule}");
    }
}

/// A Lambda task that died (timed out, out of memory: `Lambda.Unknown`) or whose invocation timed out is
/// retried like the service's own errors; the load is idempotent per file, so a retried load is harmless.
#[test]
fn every_lambda_task_retries_the_functions_own_deaths() {
    let d = definition();
    let tasks: Vec<(String, Json)> =
        states(&d).into_iter().filter(|(_, s)| s["Resource"] == "arn:aws:states:::lambda:invoke").collect();
    assert_eq!(tasks.len(), 5, "{:?}", tasks.iter().map(|t| &t.0).collect::<Vec<_>>());
    for (name, task) in &tasks {
        let retried: Vec<&str> = task["Retry"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["ErrorEquals"].as_array().unwrap())
            .map(|e| e.as_str().unwrap())
            .collect();
        for e in ["Lambda.Unknown", "Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Transient"] {
            assert!(retried.contains(&e), "{name}: {e} not retried ({retried:?})");
        }
    }
}

#[test]
fn every_map_item_is_retried_and_caught_and_runs_at_the_discovered_concurrency() {
    let d = definition();
    let maps: Vec<(String, Json)> = states(&d).into_iter().filter(|(_, s)| s["Type"] == "Map").collect();
    assert_eq!(maps.len(), 2);
    for (name, map) in &maps {
        // A Distributed Map over a manifest in S3: neither the night's files nor their results pass through a
        // state's payload (256 KiB) or the execution's history (25 000 events).
        assert_eq!(map["MaxConcurrencyPath"], "$.max_concurrency", "{name}");
        assert_eq!(map["ItemSelector"]["file.$"], "$$.Map.Item.Value.file", "{name}");
        assert_eq!(map["ItemProcessor"]["ProcessorConfig"]["Mode"], "DISTRIBUTED", "{name}");
        assert_eq!(map["ItemProcessor"]["ProcessorConfig"]["ExecutionType"], "STANDARD", "{name}: task tokens");
        assert_eq!(map["ItemReader"]["Resource"], "arn:aws:states:::s3:getObject", "{name}");
        assert_eq!(map["ItemReader"]["ReaderConfig"]["InputType"], "JSON", "{name}");
        assert!(map["ItemsPath"].is_null(), "{name}: no inline list of files");
        assert_eq!(map["ResultWriter"]["Resource"], "arn:aws:states:::s3:putObject", "{name}");
        for (task, state) in states(&map["ItemProcessor"]) {
            if state["Type"] != "Task" {
                continue;
            }
            let retry = state["Retry"].as_array().unwrap_or_else(|| panic!("{name}/{task}: no Retry"));
            let retried: Vec<&str> =
                retry.iter().flat_map(|r| r["ErrorEquals"].as_array().unwrap()).map(|e| e.as_str().unwrap()).collect();
            assert!(
                retried.contains(&"Transient") && retried.contains(&"States.Timeout"),
                "{name}/{task}: {retried:?}"
            );
            assert!(
                !retried.contains(&"StatementRejected") && !retried.contains(&"States.ALL"),
                "rejections are final"
            );
            assert!(retry.iter().all(|r| r["BackoffRate"].as_f64().unwrap() > 1.0), "{name}/{task}: backoff");
            let catch = state["Catch"].as_array().unwrap_or_else(|| panic!("{name}/{task}: no Catch"));
            let caught: Vec<&str> =
                catch.iter().flat_map(|c| c["ErrorEquals"].as_array().unwrap()).map(|e| e.as_str().unwrap()).collect();
            // The first pass catches everything (the other files go on); the second pass the final answers
            // (rejected, gone, refused until an operator acts), so that only a file still failing for a reason
            // that may pass fails the execution, where a redrive resumes — and re-runs only what can succeed.
            let expected: &[&str] = if name == "IngestEach" {
                &["States.ALL"]
            } else {
                &["StatementRejected", "SourceMissing", "NotRetryable"]
            };
            assert_eq!(caught, expected, "{name}/{task}");
            assert!(catch.iter().all(|c| c["ResultPath"] == "$.error"), "{name}/{task}: the error is kept");
            assert!(state["TimeoutSeconds"].as_u64().unwrap() >= 3600, "a lost message does not wait for ever");
            // A dead ingest is noticed by its missing heartbeats, and that is retried like a timeout. Alive, the
            // ingest beats every VISIBILITY_HEARTBEAT_SECONDS; a message waits at most its retry backoff, or
            // three periods of visibility after a crash, before the next delivery beats again.
            let heartbeat = state["HeartbeatSeconds"].as_u64().unwrap_or_else(|| panic!("{name}/{task}: no heartbeat"));
            assert!(retried.contains(&"States.HeartbeatTimeout"), "{name}/{task}: {retried:?}");
            let beat: u64 = template()["Resources"]["IngestFunction"]["Properties"]["Environment"]["Variables"]
                ["VISIBILITY_HEARTBEAT_SECONDS"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let longest_silence = (3 * beat).max(syncrocardpay_ingest::MAX_RETRY_BACKOFF.as_secs()) + beat;
            assert!(heartbeat > longest_silence, "{name}/{task}: {heartbeat} s ≤ {longest_silence} s of silence");
            assert!(heartbeat <= 900, "{name}/{task}: a dead ingest is noticed within minutes");
        }
    }
}

/// Evaluate the entry Choice for an input (the subset of the language the definition uses).
fn choose(choice: &Json, input: &Json) -> String {
    fn test(rule: &Json, input: &Json) -> bool {
        if let Some(all) = rule["And"].as_array() {
            return all.iter().all(|r| test(r, input));
        }
        if let Some(any) = rule["Or"].as_array() {
            return any.iter().any(|r| test(r, input));
        }
        let path = rule["Variable"].as_str().unwrap().strip_prefix("$.").unwrap();
        let value = path.split('.').try_fold(input, |v, k| v.get(k));
        if let Some(present) = rule["IsPresent"].as_bool() {
            return value.is_some() == present;
        }
        if let Some(s) = rule["StringEquals"].as_str() {
            return value.and_then(Json::as_str) == Some(s);
        }
        panic!("rule not understood: {rule}")
    }
    choice["Choices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| test(r, input))
        .map(|r| r["Next"].as_str().unwrap().to_string())
        .unwrap_or_else(|| choice["Default"].as_str().unwrap().to_string())
}

#[test]
fn the_entry_choice_routes_both_input_shapes() {
    let d = definition();
    assert_eq!(d["StartAt"], "EntryShape");
    let choice = &d["States"]["EntryShape"];
    let scheduled: Json = serde_json::from_str(include_str!("events/eventbridge-scheduled.json")).unwrap();
    let single: Json = serde_json::json!({
        "file": {"source": "s3", "name": "CIELO03.TXT", "size": 1},
        "ack": {"status": "staged", "file_id": 1, "sha256": "ab", "name": "CIELO03.TXT"}});
    assert_eq!(choose(choice, &scheduled), "Discover");
    assert_eq!(choose(choice, &serde_json::json!({"trigger": "schedule", "force": false})), "Discover");
    assert_eq!(choose(choice, &serde_json::json!({"trigger": "manual", "force": true})), "Discover");
    assert_eq!(choose(choice, &single), "LoadOne");
    let window = syncrocardpay_core::workflow::UploadWindow::now(60).execution().1;
    assert_eq!(choose(choice, &window), "UploadWindow", "what the ingest function starts for a window of uploads");
    assert_eq!(d["States"]["UploadWindow"]["TimestampPath"], "$.uploads.load_after");
    assert_eq!(choose(choice, &serde_json::json!({"Comment": "Insert your JSON here"})), "UnrecognisedInput");
    assert_eq!(d["States"]["UnrecognisedInput"]["Type"], "Fail");
    // The nightly schedule starts the first shape.
    let t = template();
    let nightly = &t["Resources"]["ReconcileStateMachine"]["Properties"]["Events"]["Nightly"]["Properties"];
    let input: Json = serde_json::from_str(nightly["Input"].as_str().unwrap()).unwrap();
    assert_eq!(choose(choice, &input), "Discover");
    // EventBridge Scheduler at 09:00 in Brasília, retried, with a dead-letter queue its own role may write to.
    let event = &t["Resources"]["ReconcileStateMachine"]["Properties"]["Events"]["Nightly"];
    assert_eq!(event["Type"], "ScheduleV2");
    assert_eq!(t["Parameters"]["ScheduleExpression"]["Default"], "cron(0 9 * * ? *)");
    assert_eq!(t["Parameters"]["ScheduleTimezone"]["Default"], "America/Sao_Paulo");
    assert_eq!(intrinsic(&nightly["ScheduleExpressionTimezone"]).unwrap().1, "ScheduleTimezone");
    assert!(nightly["RetryPolicy"]["MaximumRetryAttempts"].as_u64().unwrap() > 0);
    assert_eq!(intrinsic(&nightly["DeadLetterConfig"]["Arn"]).unwrap().1, "ScheduleDeadLetterQueue.Arn");
    assert_eq!(intrinsic(&nightly["RoleArn"]).unwrap().1, "ScheduleRole.Arn");
    // An execution has a timeout: a stuck night ends before the next begins. And two runs never overlap: a
    // run holds a lease from discovery to its last load — exactly as long as an execution may last — and a run
    // that finds it held ends at once.
    let timeout = d["TimeoutSeconds"].as_u64().expect("an execution-level timeout");
    assert!(timeout <= 12 * 3600, "{timeout}");
    assert_eq!(timeout as i64, syncrocardpay_core::workflow::RUN_LEASE_SECONDS);
    assert_eq!(d["States"]["Discover"]["Next"], "AnotherRunHoldsTheLease");
    let guard = &d["States"]["AnotherRunHoldsTheLease"];
    assert_eq!(choose(guard, &serde_json::json!({"skipped": "another run", "files": []})), "SkippedOverlap");
    assert_eq!(choose(guard, &serde_json::json!({"lease": "run-1", "files": []})), "IngestEach");
    for load in ["Load", "LoadRetried"] {
        assert_eq!(d["States"][load]["Parameters"]["Payload"]["lease.$"], "$.lease", "{load} gives the lease back");
    }
    // A load whose time ran short is called again until nothing is left staged.
    for (load, more, path) in [
        ("Load", "MoreToLoad", "$.load.summary.more"),
        ("LoadRetried", "MoreToLoadAfterRetry", "$.retry_load.summary.more"),
    ] {
        assert_eq!(d["States"][load]["Next"], more);
        let choice = &d["States"][more]["Choices"][0];
        assert_eq!((choice["Variable"].as_str(), choice["Next"].as_str()), (Some(path), Some(load)));
    }
}

/// Someone is told when it cannot work (issue 16, item 6): an SNS topic (with an e-mail parameter), the alarms
/// by name on what they watch, each notifying the topic; X-Ray on the functions and the state machine; a
/// dashboard; the log level from a parameter. And the data is safe (item 8): a retained, TLS-only bucket
/// with lifecycle rules, a retained dead-letter queue, the SecureStrings' own key with rotation.
#[test]
fn alarms_tracing_and_data_safety_are_in_the_template() {
    let t = template();
    let r = &t["Resources"];
    assert_eq!(r["AlarmTopic"]["Type"], "AWS::SNS::Topic");
    assert_eq!(intrinsic(&r["AlarmEmailSubscription"]["Properties"]["Endpoint"]).unwrap().1, "AlarmEmail");
    let watched = |alarm: &str| -> Vec<String> {
        let p = &r[alarm]["Properties"];
        assert_eq!(r[alarm]["Type"], "AWS::CloudWatch::Alarm", "{alarm}");
        assert_eq!(intrinsic(&p["AlarmActions"][0]).unwrap().1, "AlarmTopic", "{alarm} notifies the topic");
        // Its runbook section exists: docs/operations.md has the heading the link's anchor names.
        let description = p["AlarmDescription"].as_str().unwrap();
        let anchor = description.split("docs/operations.md#").nth(1).unwrap_or_else(|| panic!("{alarm}: runbook link"));
        let runbook = std::fs::read_to_string(root().join("docs/operations.md")).unwrap();
        assert!(
            runbook
                .lines()
                .any(|l| l.strip_prefix("## ").is_some_and(|h| h.to_lowercase().replace(' ', "-") == anchor)),
            "{alarm}: no section #{anchor} in docs/operations.md"
        );
        let mut names: Vec<String> = p["MetricName"].as_str().map(String::from).into_iter().collect();
        for m in p["Metrics"].as_sequence().into_iter().flatten() {
            names.extend(m["MetricStat"]["Metric"]["MetricName"].as_str().map(String::from));
        }
        names
    };
    assert_eq!(watched("IngestDeadLettersAlarm"), ["ApproximateNumberOfMessagesVisible"]);
    assert_eq!(watched("ScheduleDeadLettersAlarm"), ["ApproximateNumberOfMessagesVisible"]);
    assert_eq!(watched("ScheduleFailedInvocationsAlarm"), ["TargetErrorCount", "InvocationDroppedCount"]);
    assert_eq!(watched("ExecutionsFailedAlarm"), ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]);
    assert_eq!(watched("OldestIngestMessageAlarm"), ["ApproximateAgeOfOldestMessage"]);
    assert_eq!(watched("OldestUploadMessageAlarm"), ["ApproximateAgeOfOldestMessage"]);
    assert_eq!(watched("FilesFailedAlarm"), [syncrocardpay_core::workflow::metrics::FILES_FAILED]);
    for f in ["Discover", "Ingest", "Load"] {
        assert_eq!(watched(&format!("{f}ErrorsAlarm")), ["Errors"]);
        assert_eq!(watched(&format!("{f}ThrottlesAlarm")), ["Throttles"]);
    }
    // No nightly load in 26 hours: every hour without the load's metric counts as breaching.
    let nightly = &r["NoNightlyRunAlarm"]["Properties"];
    assert_eq!(watched("NoNightlyRunAlarm"), [syncrocardpay_core::workflow::metrics::NIGHTLY_LOADS]);
    assert_eq!(nightly["Namespace"], syncrocardpay_core::workflow::metrics::NAMESPACE);
    assert_eq!(nightly["TreatMissingData"], "breaching");
    assert_eq!(nightly["Period"].as_u64().unwrap() * nightly["EvaluationPeriods"].as_u64().unwrap(), 26 * 3600);
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Tracing"], "Active");
    assert_eq!(intrinsic(&globals["Environment"]["Variables"]["RUST_LOG"]).unwrap().1, "LogLevel");
    assert_eq!(
        globals["Environment"]["Variables"]["METRICS_NAMESPACE"],
        syncrocardpay_core::workflow::metrics::NAMESPACE
    );
    assert_eq!(r["ReconcileStateMachine"]["Properties"]["Tracing"]["Enabled"], true);
    let body = r["Dashboard"]["Properties"]["DashboardBody"].clone();
    let body = intrinsic(&body).unwrap().1;
    for metric in syncrocardpay_core::workflow::metrics::ALL {
        assert!(body.contains(metric) || *metric == syncrocardpay_core::workflow::metrics::NIGHTLY_LOADS, "{metric}");
    }

    let bucket = &r["StatementBucket"];
    assert_eq!(
        (bucket["DeletionPolicy"].as_str(), bucket["UpdateReplacePolicy"].as_str()),
        (Some("Retain"), Some("Retain"))
    );
    assert!(bucket["Properties"]["BucketName"].is_null(), "CloudFormation names it: valid for any stack name");
    let rules: Vec<&str> = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "OldVersions",
            "IncompleteUploads",
            "RawCopiesGoCold",
            "ProcessedCopiesGoCold",
            "RunManifestsExpire",
            "MapResultsExpire"
        ]
    );
    let tls = &r["StatementBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(
        (tls["Effect"].as_str(), tls["Condition"]["Bool"]["aws:SecureTransport"].as_str()),
        (Some("Deny"), Some("false"))
    );
    for q in ["IngestDeadLetterQueue", "ScheduleDeadLetterQueue"] {
        assert_eq!(r[q]["DeletionPolicy"], "Retain", "{q}");
    }
    assert_eq!(r["SecretsKey"]["Properties"]["EnableKeyRotation"], true);
    for f in ["DiscoverFunction", "IngestFunction", "LoadFunction", "MigrateFunction"] {
        let decrypt: Vec<String> = statements(&t)
            .into_iter()
            .filter(|(n, s)| n == f && s["Action"] == "kms:Decrypt")
            .map(|(_, s)| intrinsic(&s["Resource"]).unwrap().1)
            .collect();
        assert_eq!(decrypt, ["SecretsKey.Arn"], "{f} decrypts with the stack's key only");
    }
}

/// Every IAM policy statement of the template (function and state machine policies, queue policies).
fn statements(t: &Yaml) -> Vec<(String, Yaml)> {
    let mut out = Vec::new();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        let name = name.as_str().unwrap().to_string();
        let p = &r["Properties"];
        let mut documents: Vec<&Yaml> = p["Policies"].as_sequence().into_iter().flatten().collect();
        documents.extend(p.get("PolicyDocument"));
        for doc in documents {
            for s in doc["Statement"].as_sequence().into_iter().flatten() {
                out.push((name.clone(), s.clone()));
            }
        }
    }
    out
}

#[test]
fn the_template_keeps_its_operational_promises() {
    let t = template();
    let r = &t["Resources"];
    let globals = &t["Globals"]["Function"];
    assert_eq!(
        (globals["Runtime"].as_str(), globals["Handler"].as_str()),
        (Some("provided.al2023"), Some("bootstrap"))
    );
    assert_eq!(globals["Architectures"][0], "arm64");
    assert_eq!(t["Parameters"]["SsmPrefix"]["Default"], syncrocardpay_core::config::DEFAULT_PREFIX);
    assert!(t["Parameters"]["SubnetIds"].is_mapping() && t["Parameters"]["SecurityGroupIds"].is_mapping());

    let functions: Vec<(&str, &Yaml)> = r
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, v)| v["Type"] == "AWS::Serverless::Function")
        .map(|(k, v)| (k.as_str().unwrap(), v))
        .collect();
    assert_eq!(functions.len(), 4);
    for (name, f) in &functions {
        // `sam build` runs `cargo lambda build` in CodeUri: the function's own package, whose only binary it
        // builds (at the workspace root, the CLI is the default package and `--bin` finds nothing).
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        assert!(f["Metadata"]["BuildProperties"]["Binary"].is_null(), "{name}: one package, one binary");
        let code = f["Properties"]["CodeUri"].as_str().unwrap();
        let manifest = std::fs::read_to_string(root().join(code).join("Cargo.toml")).unwrap();
        assert_eq!(manifest.matches("[[bin]]").count(), 1, "{name}: {code} builds one binary");
        let (_, group) = intrinsic(&f["Properties"]["LoggingConfig"]["LogGroup"]).unwrap();
        assert_eq!(r[group.as_str()]["Properties"]["RetentionInDays"], 14, "{name}: {group}");
    }
    let (_, group) = intrinsic(
        &r["ReconcileStateMachine"]["Properties"]["Logging"]["Destinations"][0]["CloudWatchLogsLogGroup"]
            ["LogGroupArn"],
    )
    .unwrap();
    assert_eq!(r[group.trim_end_matches(".Arn")]["Properties"]["RetentionInDays"], 14);

    // The queues (the nightly runs' task tokens; the uploads' S3 notifications, so that a burst of uploads
    // never holds up a night): visibility ≥ 6× the ingest timeout, a dead-letter queue, the receive count the
    // function knows, each read by the ingest function at a concurrency of its own.
    let ingest = &r["IngestFunction"]["Properties"];
    let timeout = ingest["Timeout"].as_u64().unwrap();
    for (queue_name, concurrency) in [("IngestQueue", "MaxConcurrency"), ("UploadQueue", "UploadConcurrency")] {
        let queue = &r[queue_name]["Properties"];
        assert!(queue["VisibilityTimeout"].as_u64().unwrap() >= 6 * timeout, "{queue_name}");
        assert_eq!(intrinsic(&queue["RedrivePolicy"]["deadLetterTargetArn"]).unwrap().1, "IngestDeadLetterQueue.Arn");
        assert_eq!(
            intrinsic(&queue["RedrivePolicy"]["maxReceiveCount"]),
            intrinsic(&ingest["Environment"]["Variables"]["MAX_RECEIVE_COUNT"])
        );
        let event = &ingest["Events"][queue_name]["Properties"];
        assert_eq!(intrinsic(&event["Queue"]).unwrap().1, format!("{queue_name}.Arn"));
        assert_eq!(event["FunctionResponseTypes"][0], "ReportBatchItemFailures", "{queue_name}");
        assert_eq!(intrinsic(&event["ScalingConfig"]["MaximumConcurrency"]).unwrap().1, concurrency);
    }
    assert_eq!(intrinsic(&ingest["Environment"]["Variables"]["STATE_MACHINE_ARN"]).unwrap().1, "ReconcileStateMachine");
    // Uploads load per window (one execution per window, not per file), by default a minute.
    assert_eq!(
        intrinsic(&ingest["Environment"]["Variables"]["UPLOAD_WINDOW_SECONDS"]).unwrap().1,
        "UploadWindowSeconds"
    );
    assert_eq!(t["Parameters"]["UploadWindowSeconds"]["Default"], 60);

    // S3 notifications of the inbox go to the upload queue, which lets S3 send to it.
    let notification = &r["StatementBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"][0];
    assert_eq!(intrinsic(&notification["Queue"]).unwrap().1, "UploadQueue.Arn");
    assert_eq!(notification["Filter"]["S3Key"]["Rules"][0]["Value"], "inbox/");
    assert_eq!(notification["Event"], "s3:ObjectCreated:*");
    let all = statements(&t);
    assert!(all.iter().any(|(n, s)| n == "UploadQueuePolicy" && s["Principal"]["Service"] == "s3.amazonaws.com"));

    // Least privilege: every action allowed is named (no `*` in any allowed action; a Deny may be wide).
    assert!(all.len() >= 15, "{} statements", all.len());
    for (name, s) in all.iter().filter(|(_, s)| s["Effect"] == "Allow") {
        let actions: Vec<&str> = match &s["Action"] {
            Yaml::String(a) => vec![a.as_str()],
            Yaml::Sequence(v) => v.iter().map(|a| a.as_str().unwrap()).collect(),
            other => panic!("{name}: action {other:?}"),
        };
        for a in actions {
            assert!(!a.contains('*'), "{name}: action {a:?} is a wildcard");
        }
    }
    let machine_actions: Vec<String> = all
        .iter()
        .filter(|(n, _)| n == "ReconcileStateMachine")
        .flat_map(|(_, s)| match &s["Action"] {
            Yaml::String(a) => vec![a.clone()],
            Yaml::Sequence(v) => v.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
            _ => vec![],
        })
        .collect();
    // Redrive is the operator's (the state machine never redrives itself): the operator policy grants it, and
    // moving dead letters back, and is an output of the stack.
    assert!(!machine_actions.contains(&"states:RedriveExecution".to_string()), "{machine_actions:?}");
    let operator: Vec<String> = all
        .iter()
        .filter(|(n, _)| n == "OperatorPolicy")
        .flat_map(|(_, s)| match &s["Action"] {
            Yaml::String(a) => vec![a.clone()],
            Yaml::Sequence(v) => v.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
            _ => vec![],
        })
        .collect();
    for a in ["states:RedriveExecution", "states:StartExecution", "sqs:StartMessageMoveTask", "sqs:SendMessage"] {
        assert!(operator.contains(&a.to_string()), "operator policy lacks {a}: {operator:?}");
    }
    assert_eq!(intrinsic(&t["Outputs"]["OperatorPolicyArn"]["Value"]).unwrap().1, "OperatorPolicy");
    assert!(
        machine_actions.contains(&"sqs:SendMessage".to_string())
            && machine_actions.contains(&"lambda:InvokeFunction".to_string())
    );
}

/// Run an external linter if installed; CI (`SYNCRO_NO_SKIP=1`) requires it.
fn lint(program: &str, args: &[&str]) {
    let installed = Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success());
    if !installed {
        let msg = format!("{program} is not installed (CI installs it)");
        common::skip::skip(&msg);
        return;
    }
    let out = Command::new(program).args(args).env("SAM_CLI_TELEMETRY", "0").current_dir(root()).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cfn_lint_finds_nothing() {
    lint("cfn-lint", &["template.yaml"]);
}

/// `sam validate --lint`: the template as SAM CLI reads it (its transform, then cfn-lint), as the README says.
#[test]
fn sam_validate_lint_finds_nothing() {
    lint("sam", &["validate", "--lint", "--template", "template.yaml"]);
}

#[test]
fn asl_validator_finds_nothing() {
    lint("asl-validator", &["--json-path", "statemachine/reconcile.asl.json"]);
}
