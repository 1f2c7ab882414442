use std::sync::Mutex;

use time::macros::date;

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::domain::readings::testkit::{at, entry, kit, Kit};
use crate::domain::readings::Reminder;
use crate::domain::readings::ReminderKind;
use crate::jobs::Handler;

/// ГИС ЖКХ as the readings module sees it: records what it got, answers as told.
#[derive(Default)]
struct FakeGis {
    submitted: Mutex<Vec<ExportBatch>>,
    submit_errors: Mutex<Vec<ExportError>>,
    /// Polls answered "still processing" before the verdict.
    pending_polls: Mutex<u32>,
    /// Items whose TransportGUID is listed here are rejected.
    reject: Mutex<Vec<(usize, &'static str, &'static str)>>,
}

impl ReadingsExport for FakeGis {
    fn submit(&self, batch: &ExportBatch) -> Result<String, ExportError> {
        if let Some(e) = self.submit_errors.lock().unwrap().pop() {
            return Err(e);
        }
        self.submitted.lock().unwrap().push(batch.clone());
        Ok(format!("ack-{}", batch.message_guid))
    }

    fn poll(
        &self,
        batch: &ExportBatch,
        ack_guid: &str,
    ) -> Result<Option<Vec<ItemResult>>, ExportError> {
        assert_eq!(ack_guid, format!("ack-{}", batch.message_guid));
        let mut pending = self.pending_polls.lock().unwrap();
        if *pending > 0 {
            *pending -= 1;
            return Ok(None);
        }
        let reject = self.reject.lock().unwrap();
        Ok(Some(
            batch
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| ItemResult {
                    transport_guid: item.transport_guid.clone(),
                    error: reject
                        .iter()
                        .find(|(n, _, _)| *n == i)
                        .map(|(_, code, text)| (code.to_string(), text.to_string())),
                })
                .collect(),
        ))
    }
}

#[derive(Default)]
struct Bot(Mutex<Vec<Reminder>>);

impl ReminderSender for Bot {
    fn enqueue(
        &self,
        _tx: &Transaction<'_>,
        message: &Reminder,
        _now: OffsetDateTime,
    ) -> store::Result<()> {
        self.0.lock().unwrap().push(message.clone());
        Ok(())
    }
}

const TODAY: time::Date = date!(2026 - 12 - 22);

struct Rig {
    kit: Kit,
    gis: Arc<FakeGis>,
    bot: Arc<Bot>,
    clock: ManualClock,
    handler: ImportReadings,
}

fn rig() -> Rig {
    let kit = kit();
    let gis = Arc::new(FakeGis::default());
    let clock = ManualClock::new(at(TODAY));
    let bot = Arc::new(Bot::default());
    let handler = ImportReadings::new(kit.store.clone(), Arc::new(clock.clone()), gis.clone())
        .with_notifier(bot.clone());
    Rig {
        kit,
        gis,
        bot,
        clock,
        handler,
    }
}

impl Rig {
    fn claim(&self) -> Vec<Job> {
        let mut conn = self.kit.store.conn().unwrap();
        outbox::claim(
            &mut conn,
            &[IMPORT_READINGS],
            self.clock.now(),
            Duration::minutes(10),
            10,
        )
        .unwrap()
    }

    fn statuses(&self) -> Vec<String> {
        let conn = self.kit.store.conn().unwrap();
        let mut stmt = conn
            .prepare("SELECT status FROM readings WHERE source = 'resident' ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

#[test]
fn four_meters_travel_in_one_message_and_get_confirmed_or_rejected() {
    let rig = rig();
    let meters: Vec<i64> = (0..3).map(|_| rig.kit.meter(1, 5)).collect();
    let electric = rig.kit.meter(3, 6);
    let mut items: Vec<_> = meters.iter().map(|m| entry(*m, &["12,5"])).collect();
    items.push(entry(electric, &["100", "50", "7.25"]));
    let result = rig.kit.submit(rig.clock.now(), &items);
    assert!(result.meters.iter().all(|m| m.is_accepted()));

    assert!(
        rig.claim().is_empty(),
        "the job waits for the end of the slot"
    );
    rig.clock.advance(Duration::minutes(1));
    let job = rig.claim().pop().expect("one delivery job");

    let first = rig.handler.run(&job).unwrap();
    let now = rig.clock.now();
    assert!(matches!(first, Outcome::Later(t) if t == now + Duration::seconds(10)));
    let sent = rig.gis.submitted.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let batch = &sent[0];
    assert_eq!(batch.items.len(), 4);
    assert_eq!(batch.org_ppa_guid.as_deref(), Some("ppa-guid"));
    assert_eq!(batch.items[0].values, ["12.5"]);
    assert_eq!(batch.items[3].values, ["100", "50", "7.25"]);
    assert_eq!(batch.items[3].resource, "electricity");
    assert_eq!(batch.items[0].taken_on, TODAY);
    assert_eq!(batch.items[0].fias_house_guid.as_deref(), Some("fias-1"));
    assert!(batch.items.iter().all(|i| i.transport_guid.len() == 36));
    assert_eq!(rig.statuses(), ["sent"; 4]);

    *rig.gis.pending_polls.lock().unwrap() = 1;
    rig.gis
        .reject
        .lock()
        .unwrap()
        .push((3, "SRV008", "Показания меньше предыдущих"));
    let waiting = rig.handler.run(&job).unwrap();
    assert!(matches!(waiting, Outcome::Later(t) if t == now + Duration::seconds(60)));
    let done = rig.handler.run(&job).unwrap();
    assert!(matches!(done, Outcome::Done));

    assert_eq!(
        rig.statuses(),
        ["confirmed", "confirmed", "confirmed", "rejected"]
    );
    assert_eq!(rig.gis.submitted.lock().unwrap().len(), 1, "sent once");
    let error: String = rig
        .kit
        .store
        .conn()
        .unwrap()
        .query_row(
            "SELECT error FROM readings WHERE status = 'rejected'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(error, "Показания меньше предыдущих (SRV008)");
    let told = rig.bot.0.lock().unwrap().clone();
    assert_eq!(told.len(), 1, "the resident hears of the rejection only");
    assert_eq!(
        (told[0].kind, told[0].user_id),
        (ReminderKind::Rejected, 555)
    );
    assert!(
        told[0]
            .text
            .contains("Показания меньше предыдущих (SRV008)"),
        "{}",
        told[0].text
    );

    assert!(
        matches!(rig.handler.run(&job).unwrap(), Outcome::Done),
        "a rerun after a crash changes nothing"
    );
    assert_eq!(rig.gis.submitted.lock().unwrap().len(), 1);
}

#[test]
fn a_failed_send_is_repeated_with_the_same_guids() {
    let rig = rig();
    let meter = rig.kit.meter(1, 5);
    rig.kit.one(rig.clock.now(), meter, &["10"]);
    rig.clock.advance(Duration::minutes(1));
    let job = rig.claim().pop().unwrap();

    rig.gis
        .submit_errors
        .lock()
        .unwrap()
        .push(ExportError::Retry("connection reset".into()));
    assert!(matches!(rig.handler.run(&job), Err(JobError::Retry { .. })));
    assert_eq!(rig.statuses(), ["accepted"]);

    rig.handler.run(&job).unwrap();
    rig.handler.run(&job).unwrap();
    rig.handler.run(&job).unwrap();
    let sent = rig.gis.submitted.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let stored: (String, String) = rig
        .kit
        .store
        .conn()
        .unwrap()
        .query_row(
            "SELECT e.message_guid, r.transport_guid FROM readings r \
             JOIN reading_exports e ON e.id = r.export_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        stored,
        (
            sent[0].message_guid.clone(),
            sent[0].items[0].transport_guid.clone()
        )
    );
    assert_eq!(rig.statuses(), ["confirmed"]);
}

#[test]
fn a_fatal_answer_gives_up_and_marks_the_message() {
    let rig = rig();
    let meter = rig.kit.meter(1, 5);
    rig.kit.one(rig.clock.now(), meter, &["10"]);
    rig.clock.advance(Duration::minutes(1));
    let job = rig.claim().pop().unwrap();
    rig.gis
        .submit_errors
        .lock()
        .unwrap()
        .push(ExportError::Fatal("INT002012: нет прав".into()));
    let Err(JobError::Fatal(message)) = rig.handler.run(&job) else {
        panic!("fatal expected");
    };
    rig.kit
        .store
        .write_blocking(|tx| rig.handler.on_failed(tx, &job, &message))
        .unwrap();
    assert_eq!(
        rig.kit
            .count("SELECT COUNT(*) FROM reading_exports WHERE state = 'failed'"),
        1
    );
}

#[test]
fn a_reading_after_the_slot_was_collected_gets_its_own_job() {
    let rig = rig();
    let a = rig.kit.meter(1, 5);
    let b = rig.kit.meter(1, 5);
    rig.kit.one(rig.clock.now(), a, &["10"]);
    rig.clock.advance(Duration::minutes(1));
    let job = rig.claim().pop().unwrap();

    rig.handler.run(&job).unwrap();
    assert_eq!(rig.gis.submitted.lock().unwrap()[0].items.len(), 1);

    // Read the clock in the same slot, committed after the job collected its readings.
    rig.kit.one(at(TODAY), b, &["10"]);
    assert!(
        rig.claim().is_empty(),
        "the lane waits for the first message"
    );
    rig.handler.run(&job).unwrap();
    rig.kit
        .store
        .write_blocking(|tx| outbox::complete(tx, job.id, rig.clock.now()))
        .unwrap();
    let next = rig.claim().pop().expect("a follow-up job");
    rig.handler.run(&next).unwrap();
    let sent = rig.gis.submitted.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].items.len(), 1);
}

#[test]
fn at_most_a_thousand_meters_and_one_reading_per_meter_per_message() {
    let rig = rig();
    let conn = rig.kit.store.conn().unwrap();
    let first = rig.kit.meter(1, 5);
    for _ in 0..1000 {
        rig.kit.meter(1, 5);
    }
    conn.execute(
        "INSERT INTO readings (meter_id, t1, taken_on, source, status, created_at, updated_at) \
         SELECT id, '1', '2026-12-21', 'resident', 'accepted', 'x', 'x' FROM meters",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO readings (meter_id, t1, taken_on, source, status, created_at, updated_at) \
         VALUES (?1, '2', '2026-12-22', 'resident', 'accepted', 'x', 'x')",
        [first],
    )
    .unwrap();
    let organisation = rig.kit.organisation;
    let now = rig.clock.now();
    rig.kit
        .store
        .write_blocking(|tx| schedule_delivery(tx, organisation, now))
        .unwrap();
    rig.clock.advance(Duration::minutes(1));
    let job = rig.claim().pop().unwrap();
    rig.handler.run(&job).unwrap();
    let batch = rig.gis.submitted.lock().unwrap()[0].clone();
    assert_eq!(batch.items.len(), BATCH_LIMIT);
    let meters: HashSet<&str> = batch
        .items
        .iter()
        .map(|i| i.meter_root_guid.as_str())
        .collect();
    assert_eq!(meters.len(), BATCH_LIMIT, "one reading per meter");
    assert_eq!(
        rig.kit.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE '{IMPORT_READINGS}:%:after:%'"
        )),
        1,
        "the rest follows in the next message"
    );
}

#[test]
fn a_meter_unknown_to_gis_is_rejected_with_a_reason() {
    let rig = rig();
    let meter = rig.kit.meter(1, 5);
    rig.kit
        .sql("UPDATE meters SET root_guid = NULL WHERE id = ?1", [meter]);
    rig.kit.one(rig.clock.now(), meter, &["10"]);
    rig.clock.advance(Duration::minutes(1));
    let job = rig.claim().pop().unwrap();
    assert!(matches!(rig.handler.run(&job).unwrap(), Outcome::Done));
    assert!(rig.gis.submitted.lock().unwrap().is_empty());
    assert_eq!(rig.statuses(), ["rejected"]);
}

#[test]
fn a_correction_while_in_flight_stays_replaced() {
    let rig = rig();
    let meter = rig.kit.meter(1, 5);
    rig.kit.one(rig.clock.now(), meter, &["10"]);
    rig.clock.advance(Duration::minutes(1));
    let job = rig.claim().pop().unwrap();
    rig.handler.run(&job).unwrap();
    rig.kit.one(rig.clock.now(), meter, &["11"]);
    rig.handler.run(&job).unwrap();
    assert_eq!(rig.statuses(), ["replaced", "accepted"]);
}
