//! The streaming events writers, on real runs of the examples: events.csv streamed equals
//! `write_events` byte for byte, and events.parquet holds the same table with typed columns. A
//! liquidation batch, which no example's run emits, on a trail made for it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, Int32Type, TimestampMillisecondType, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayAccessor, RecordBatch, StringArray};
use arrow_schema::{DataType, TimeUnit};
use cascade_engine::{Event, EventKind, EventSink, World};
use cascade_report::{CsvEventWriter, EventsFormat, ParquetEventWriter, write_events};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// A run of an example: its world and events.
struct Run {
    world: Arc<World>,
    events: Vec<Event>,
}

/// Runs a scenario on path 0. The only call into the engine in these tests.
fn run_engine(world: &Arc<World>) -> Vec<Event> {
    cascade_engine::trail(world, 0)
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn load(path: &str) -> Run {
    let scenario = cascade_scenario::load(&repo(path)).expect("the example loads");
    let world = Arc::new(scenario.world);
    let events = run_engine(&world);
    Run { world, events }
}

/// The examples, each run once per test binary.
fn example(name: &str) -> &'static Run {
    macro_rules! cached {
        ($($name:literal),*) => {
            match name {
                $($name => {
                    static RUN: OnceLock<Run> = OnceLock::new();
                    RUN.get_or_init(|| load(concat!("examples/", $name, ".toml")))
                })*
                _ => panic!("no example {name}"),
            }
        };
    }
    cached!(
        "eth-crash",
        "gbm-jump-stress",
        "perp-short-squeeze",
        "perp-long-cascade",
        "maker-dutch-auction",
        "maker-english-auction",
        "order-book-file",
        "backstop-transfer",
        "amm-venue",
        "liquity-stability-pool",
        "market-makers-thin",
        "compound-v3-absorb",
        "may-2021-replay",
        "black-thursday-2020",
        "oracle-staleness"
    )
}

fn csv_of(run: &Run) -> Vec<u8> {
    let mut out = Vec::new();
    write_events(&run.world, &run.events, &mut out).unwrap();
    out
}

fn stream_csv(run: &Run, chunk: Option<usize>) -> Vec<u8> {
    let world = Arc::clone(&run.world);
    let mut writer = match chunk {
        Some(chunk) => CsvEventWriter::with_chunk_size(world, Vec::new(), chunk),
        None => CsvEventWriter::new(world, Vec::new()),
    }
    .unwrap();
    for event in &run.events {
        writer.record(event);
    }
    writer.finish().unwrap()
}

fn stream_parquet(run: &Run, chunk: Option<usize>) -> Vec<u8> {
    let world = Arc::clone(&run.world);
    let mut writer = match chunk {
        Some(chunk) => ParquetEventWriter::with_chunk_size(world, Vec::new(), chunk),
        None => ParquetEventWriter::new(world, Vec::new()),
    }
    .unwrap();
    for event in &run.events {
        writer.record(event);
    }
    writer.finish().unwrap()
}

fn read_parquet(bytes: Vec<u8>) -> Vec<RecordBatch> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .unwrap()
        .build()
        .unwrap();
    reader.collect::<Result<_, _>>().unwrap()
}

#[test]
fn streamed_csv_equals_write_events() {
    for name in ["eth-crash", "perp-short-squeeze", "black-thursday-2020"] {
        let run = example(name);
        let expected = csv_of(run);
        let lines = expected.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(
            lines,
            run.events.len() + 1,
            "{name}: a header and a row per event"
        );
        assert!(
            stream_csv(run, None) == expected,
            "{name}: streamed differs"
        );
    }
}

#[test]
fn chunk_boundaries_do_not_change_the_csv() {
    for name in ["eth-crash", "perp-short-squeeze"] {
        let run = example(name);
        let expected = csv_of(run);
        for chunk in [1, 7, 8_193] {
            assert!(
                stream_csv(run, Some(chunk)) == expected,
                "{name}: chunks of {chunk} differ"
            );
        }
    }
}

#[test]
fn no_events_is_a_header() {
    let run = example("eth-crash");
    let empty = Run {
        world: Arc::clone(&run.world),
        events: Vec::new(),
    };
    let csv = stream_csv(&empty, None);
    assert_eq!(csv, csv_of(&empty));
    assert!(csv.starts_with(b"seq,step,time_seconds,round,kind,"));
    let batches = read_parquet(stream_parquet(&empty, None));
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
}

/// A writer whose disk fills after `room` bytes.
struct Full {
    room: usize,
}

impl Write for Full {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.room {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        self.room -= buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn io_errors_come_out_of_finish() {
    let run = example("eth-crash");
    for room in [0, 100, 10_000] {
        for chunk in [1, 1_000] {
            let world = Arc::clone(&run.world);
            let mut csv = CsvEventWriter::with_chunk_size(world, Full { room }, chunk).unwrap();
            for event in &run.events {
                csv.record(event);
            }
            let e = csv
                .finish()
                .err()
                .expect("the CSV writer reports the error");
            assert_eq!(e.kind(), io::ErrorKind::StorageFull, "{e}");
        }
        // events.parquet is written a row group at a time: here, all of it at the end.
        for chunk in [100, 1_000] {
            let world = Arc::clone(&run.world);
            let mut parquet =
                ParquetEventWriter::with_chunk_size(world, Full { room }, chunk).unwrap();
            for event in &run.events {
                parquet.record(event);
            }
            let e = parquet
                .finish()
                .err()
                .expect("the Parquet writer reports the error");
            assert!(e.to_string().contains("disk full"), "{e}");
        }
    }
}

#[test]
fn dropped_writers_still_write_everything() {
    let run = example("eth-crash");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.csv");
    let mut writer =
        CsvEventWriter::with_chunk_size(Arc::clone(&run.world), File::create(&path).unwrap(), 100)
            .unwrap();
    for event in &run.events {
        writer.record(event);
    }
    drop(writer);
    assert!(std::fs::read(&path).unwrap() == csv_of(run));
}

#[test]
fn formats_by_name_and_their_files() {
    for format in EventsFormat::ALL {
        assert_eq!(format.to_string().parse::<EventsFormat>(), Ok(format));
    }
    assert_eq!(EventsFormat::default(), EventsFormat::Csv);
    let e = "json".parse::<EventsFormat>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown events format \"json\": expected csv, parquet or none"
    );

    let run = example("eth-crash");
    let dir = tempfile::tempdir().unwrap();
    for format in EventsFormat::ALL {
        let mut sink = format.create(dir.path(), Arc::clone(&run.world)).unwrap();
        for event in &run.events {
            sink.record(event);
        }
        sink.finish().unwrap();
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["events.csv", "events.parquet"]);
    assert!(std::fs::read(dir.path().join("events.csv")).unwrap() == csv_of(run));
    let mut bytes = Vec::new();
    File::open(dir.path().join("events.parquet"))
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    assert!(bytes == stream_parquet(run, None));
    let rows: usize = read_parquet(bytes).iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, run.events.len());
}

/// A cell of events.parquet as text, or `None` for a null, so it can be compared with
/// events.csv; a `time_utc` cell is its RFC 3339 text.
fn cell(array: &dyn Array, i: usize) -> Option<String> {
    if array.is_null(i) {
        return None;
    }
    Some(match array.data_type() {
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(i).to_string(),
        DataType::Float64 => {
            format!("{:?}", array.as_primitive::<Float64Type>().value(i))
        }
        DataType::Boolean => array.as_boolean().value(i).to_string(),
        DataType::Utf8 => array.as_string::<i32>().value(i).to_string(),
        DataType::Dictionary(..) => {
            let dictionary = array.as_dictionary::<Int32Type>();
            let values = dictionary.downcast_dict::<StringArray>().unwrap();
            values.value(i).to_string()
        }
        DataType::Timestamp(TimeUnit::Millisecond, Some(zone)) if zone.as_ref() == "UTC" => {
            let milliseconds = array.as_primitive::<TimestampMillisecondType>().value(i);
            assert_eq!(milliseconds % 1000, 0, "whole seconds");
            cascade_analytics::clock::utc(milliseconds / 1000, 0)
        }
        other => panic!("unexpected column type {other}"),
    })
}

/// A CSV number as the Parquet cell text compares: `f64`s through their `Debug` form.
fn as_real(text: &str) -> String {
    format!("{:?}", text.parse::<f64>().unwrap())
}

/// Every row of events.parquet equals the row of events.csv, cell by cell, and both have the
/// same columns in the same order.
fn assert_parquet_matches_csv(name: &str, run: &Run) {
    let csv = csv_of(run);
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header = reader.headers().unwrap().clone();
    let mut records = reader.records();
    let batches = read_parquet(stream_parquet(run, None));
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, run.events.len(), "{name}");
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, header.iter().collect::<Vec<_>>(), "{name}");
    for batch in &batches {
        for i in 0..batch.num_rows() {
            let record = records.next().unwrap().unwrap();
            assert_eq!(record.len(), header.len(), "{name}: {record:?}");
            for (c, text) in record.iter().enumerate() {
                let parquet = cell(batch.column(c).as_ref(), i);
                let expected = match (text.is_empty(), schema.field(c).data_type()) {
                    (true, _) => None,
                    (false, DataType::Float64) => Some(as_real(text)),
                    (false, _) => Some(text.to_string()),
                };
                assert_eq!(parquet, expected, "{name}: {} of {record:?}", &header[c]);
            }
        }
    }
    assert!(records.next().is_none());
}

#[test]
fn parquet_holds_the_csv_table_typed() {
    // Together these examples have every kind of event the examples produce.
    for name in [
        "gbm-jump-stress",
        "perp-short-squeeze",
        "perp-long-cascade",
        "maker-dutch-auction",
        "maker-english-auction",
        "order-book-file",
        "backstop-transfer",
        "amm-venue",
        "liquity-stability-pool",
        "market-makers-thin",
        "compound-v3-absorb",
        "may-2021-replay",
        "black-thursday-2020",
        "oracle-staleness",
    ] {
        // A long run's first 40,000 events and its last marks have all its kinds, and keep the
        // test quick in a debug build.
        let run = example(name);
        let mut events: Vec<Event> = run.events.iter().take(40_000).cloned().collect();
        let tail = run.events.len().saturating_sub(100).max(events.len());
        events.extend_from_slice(&run.events[tail..]);
        let run = Run {
            world: Arc::clone(&run.world),
            events,
        };
        assert_parquet_matches_csv(name, &run);
    }
}

#[test]
fn parquet_values_are_the_events() {
    let run = example("eth-crash");
    let batches = read_parquet(stream_parquet(run, None));
    let mut events = run.events.iter().enumerate();
    let mut liquidations = 0;
    for batch in &batches {
        let column = |name: &str| batch.column_by_name(name).unwrap().clone();
        let (seq, step, time, round) = (
            column("seq"),
            column("step"),
            column("time_seconds"),
            column("round"),
        );
        let (kind, units, closes) = (column("kind"), column("units"), column("closes"));
        let kind = kind.as_dictionary::<Int32Type>();
        let kind = kind.downcast_dict::<StringArray>().unwrap();
        for i in 0..batch.num_rows() {
            let (n, event) = events.next().unwrap();
            assert_eq!(seq.as_primitive::<UInt64Type>().value(i), n as u64);
            assert_eq!(step.as_primitive::<UInt64Type>().value(i), event.step);
            assert_eq!(time.as_primitive::<UInt64Type>().value(i), event.time);
            assert_eq!(round.as_primitive::<UInt32Type>().value(i), event.round);
            assert_eq!(kind.value(i), event.kind.name());
            if let EventKind::Liquidation(l) = &event.kind {
                liquidations += 1;
                assert_eq!(
                    units.as_primitive::<Float64Type>().value(i),
                    l.collateral_seized
                );
                assert_eq!(closes.as_boolean().value(i), l.closes);
            } else if let EventKind::StepEnded = event.kind {
                assert!(units.is_null(i) && closes.is_null(i));
            }
        }
    }
    assert!(events.next().is_none());
    assert!(liquidations > 0);
}

#[test]
fn parquet_is_deterministic_and_chunking_keeps_its_table() {
    let run = example("perp-short-squeeze");
    let bytes = stream_parquet(run, None);
    assert!(bytes == stream_parquet(run, None));
    let table = read_parquet(bytes);
    for chunk in [7, 1_000] {
        let other = read_parquet(stream_parquet(run, Some(chunk)));
        let rows = |t: &[RecordBatch]| t.iter().map(RecordBatch::num_rows).sum::<usize>();
        assert_eq!(rows(&other), rows(&table));
        assert_eq!(
            table_cells(&other),
            table_cells(&table),
            "chunks of {chunk}"
        );
    }
}

/// Every cell of a table, in order, as text.
fn table_cells(batches: &[RecordBatch]) -> Vec<Vec<Option<String>>> {
    let columns = batches[0].num_columns();
    (0..columns)
        .map(|c| {
            batches
                .iter()
                .flat_map(|b| {
                    let column = b.column(c).clone();
                    (0..b.num_rows()).map(move |i| cell(column.as_ref(), i))
                })
                .collect()
        })
        .collect()
}

/// A table of docs/outputs.md: the rows of the first table after `heading`, as cells without
/// their backquotes.
fn documented_table(heading: &str) -> Vec<Vec<String>> {
    let docs = std::fs::read_to_string(repo("docs/outputs.md")).unwrap();
    let section = docs.split(heading).nth(1).unwrap();
    section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .map(|line| {
            line.trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

/// The type docs/outputs.md gives a Parquet column.
fn parquet_type(ty: &DataType) -> &'static str {
    match ty {
        DataType::UInt64 => "uint64",
        DataType::UInt32 => "uint32",
        DataType::Float64 => "float64",
        DataType::Boolean => "bool",
        DataType::Utf8 => "string",
        DataType::Dictionary(..) => "name",
        DataType::Timestamp(TimeUnit::Millisecond, Some(zone)) if zone.as_ref() == "UTC" => {
            "timestamp"
        }
        other => panic!("undocumented type {other}"),
    }
}

/// docs/outputs.md lists every column of the events files: those every run has with their
/// Parquet types and whether they can be null, in order; and the detail columns, whose order
/// every run's columns follow, each with its type.
#[test]
fn the_event_columns_are_documented() {
    let fixed = documented_table("\n### Parquet types\n");
    let detail = documented_table("\n### The detail columns\n");
    let detail_type: HashMap<String, String> =
        documented_table("(`time_utc` only with a start time.)")
            .into_iter()
            .flat_map(|row| {
                let parquet = row[1].clone();
                row[0]
                    .split(", ")
                    .map(|ty| (ty.to_string(), parquet.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
    let dated = Run {
        world: cascade_test_support::Fixture::named("lender")
            .set("simulation.start_time", "2020-03-12T00:00:00Z")
            .world(),
        events: Vec::new(),
    };
    let mut checked = 0;
    for run in [
        &dated,
        example("perp-short-squeeze"),
        example("maker-english-auction"),
        example("liquity-stability-pool"),
        example("compound-v3-absorb"),
        example("backstop-transfer"),
        example("black-thursday-2020"),
        example("may-2021-replay"),
    ] {
        let bytes = stream_parquet(run, None);
        let schema = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .unwrap()
            .schema()
            .clone();
        let fields = schema.fields();
        let start = if run.world.simulation.start_time.is_some() {
            24
        } else {
            23
        };
        let documented_fixed: Vec<&Vec<String>> = fixed
            .iter()
            .filter(|row| start == 24 || row[0] != "time_utc")
            .collect();
        for (field, row) in fields[..start].iter().zip(&documented_fixed) {
            assert_eq!(field.name(), &row[0]);
            assert_eq!(parquet_type(field.data_type()), row[1], "{}", row[0]);
            assert_eq!(field.is_nullable(), row[2] == "yes", "{}", row[0]);
        }
        // The detail columns, in the documented order, each of its documented type.
        let mut last = 0;
        for field in &fields[start..] {
            let name = field.name();
            let pattern = match name.split_once('.') {
                Some((key, _)) => format!("{key}.<SYMBOL>"),
                None => name.clone(),
            };
            let at = detail
                .iter()
                .position(|row| row[0] == pattern)
                .unwrap_or_else(|| panic!("{name} is not documented"));
            assert!(at >= last, "{name} is out of the documented order");
            last = at;
            let ty = &detail_type[&detail[at][1]];
            assert_eq!(parquet_type(field.data_type()), ty, "{name}");
            checked += 1;
        }
    }
    assert!(checked > 100);
}

/// A batch of liquidation calls has one row: its calls' totals where a `liquidation` row has
/// them (no account, no health factor), each episode opened and closed at the row's time, and in
/// the detail the calls (`count`), the accounts written off and their debt's value
/// (`accounts`, `shortfall`); events.parquet holds the same cells typed.
#[test]
fn a_liquidation_batch_has_the_row_of_its_calls() {
    let world = cascade_test_support::Fixture::named("lender").world();
    let at = |step: u64, round: u32, kind: EventKind| Event {
        step,
        time: step * 60,
        round,
        kind,
    };
    let batch = cascade_engine::LiquidationBatchRecord {
        protocol: cascade_model::ids::ProtocolId(0),
        keeper: cascade_model::ids::KeeperId(0),
        accounts: 7,
        written_off_accounts: 2,
        collateral_asset: cascade_model::ids::AssetId(0),
        collateral_seized: 9.25,
        to_keeper: 9.0,
        protocol_fee: 0.25,
        collateral_price: 1_800.0,
        debt_asset: cascade_model::ids::AssetId(1),
        debt_repaid: 15_000.0,
        written_off: 1_250.5,
        debt_price: 1.25,
    };
    let run = Run {
        world,
        events: vec![
            at(0, 0, EventKind::RunStarted),
            at(2, 1, EventKind::LiquidationBatch(batch)),
            at(2, 0, EventKind::StepEnded),
        ],
    };
    let csv = String::from_utf8(csv_of(&run)).unwrap();
    assert_eq!(
        csv.lines().nth(2),
        Some(
            format!(
                "1,2,120,1,liquidation_batch,lender,,keeper,,,ETH,9.25,1800,18750,USDC,15000,,9,0.25,,,\
                 120,true,2,,7,,,1563.125{}",
                ",".repeat(15)
            )
            .as_str()
        )
    );
    assert_parquet_matches_csv("a liquidation batch", &run);

    let batches = read_parquet(stream_parquet(&run, None));
    let column = |name: &str| batches[0].column_by_name(name).unwrap().clone();
    let text = |name: &str| cell(column(name).as_ref(), 1);
    for (name, expected) in [
        ("kind", Some("liquidation_batch")),
        ("protocol", Some("lender")),
        ("account", None),
        ("keeper", Some("keeper")),
        ("asset", Some("ETH")),
        ("debt_asset", Some("USDC")),
        ("health_factor", None),
        ("closes", Some("true")),
    ] {
        assert_eq!(text(name).as_deref(), expected, "{name}");
    }
    let real = |name: &str| column(name).as_primitive::<Float64Type>().value(1);
    for (name, expected) in [
        ("units", 9.25),
        ("price", 1_800.0),
        ("usd", 15_000.0 * 1.25),
        ("debt_units", 15_000.0),
        ("to_keeper", 9.0),
        ("protocol_fee", 0.25),
        ("shortfall", 1_250.5 * 1.25),
    ] {
        assert_eq!(real(name), expected, "{name}");
    }
    let int = |name: &str| column(name).as_primitive::<UInt64Type>().value(1);
    assert_eq!(int("liquidatable_since"), 120);
    assert_eq!((int("count"), int("accounts")), (7, 2));
}
